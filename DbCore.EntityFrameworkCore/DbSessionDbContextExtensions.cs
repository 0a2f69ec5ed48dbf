using System;
using System.Data.Common;
using System.Threading;
using System.Threading.Tasks;
using DbCore.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

// In the DbCore namespace, so the session's own `using DbCore;` brings it in (as UseNpgsql lives in EF Core's namespace).
namespace DbCore;

/// <summary>
/// Builds an EF Core <see cref="DbContext"/> on a DbCore session: the session's connection and transaction, for either
/// provider, so <c>SaveChanges</c> runs inside the unit of work and commits, rolls back and is retried with it.
/// </summary>
public static class DbSessionDbContextExtensions
{
    /// <summary>
    /// Creates a <typeparamref name="TContext"/> that runs on <paramref name="session"/>'s connection, inside its
    /// transaction (<c>UseNpgsql</c> or <c>UseSqlite</c> by the session's provider, then <c>UseTransaction</c>). The
    /// context neither owns nor disposes the connection or the transaction: dispose the context when done and let the
    /// unit of work commit. Opens the session synchronously when it is not open yet; prefer
    /// <see cref="CreateDbContextAsync{TContext}"/> for a lazily opened (scoped) session.
    /// </summary>
    /// <typeparam name="TContext">The application's context type.</typeparam>
    /// <param name="session">The session whose connection and transaction the context uses.</param>
    /// <param name="factory">Creates the context from the options DbCore built: <c>session.CreateDbContext&lt;ShopContext&gt;(options =&gt; new(options))</c>.</param>
    /// <param name="configure">
    /// Further options (logging, naming conventions, interceptors); runs after DbCore chose the provider. The built options
    /// are cached per context type, provider and <paramref name="configure"/> delegate instance (a lambda that captures
    /// nothing is one instance, so it runs once); a capturing lambda is a new delegate on every call and runs every time.
    /// EF Core's retrying execution strategy is refused: DbCore retries the whole unit.
    /// </param>
    /// <exception cref="InvalidOperationException">The options enable a retrying execution strategy.</exception>
    /// <exception cref="NotSupportedException">The session's connection is neither Npgsql's nor Microsoft.Data.Sqlite's.</exception>
    public static TContext CreateDbContext<TContext>(
        this DbSession session,
        Func<DbContextOptions<TContext>, TContext> factory,
        Action<DbContextOptionsBuilder<TContext>>? configure = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(factory);
        return Attach(session, factory, configure);
    }

    /// <summary>
    /// Like <see cref="CreateDbContext{TContext}"/>, but opens a session that is not open yet asynchronously first (a
    /// scoped session that opens on first use), so no thread waits for a pooled connection or SQLite's write lock.
    /// </summary>
    /// <typeparam name="TContext">The application's context type.</typeparam>
    /// <param name="session">The session whose connection and transaction the context uses.</param>
    /// <param name="factory">Creates the context from the options DbCore built.</param>
    /// <param name="configure">Further options; see <see cref="CreateDbContext{TContext}"/>.</param>
    /// <param name="cancellationToken">Cancels opening the session.</param>
    public static async ValueTask<TContext> CreateDbContextAsync<TContext>(
        this DbSession session,
        Func<DbContextOptions<TContext>, TContext> factory,
        Action<DbContextOptionsBuilder<TContext>>? configure = null,
        CancellationToken cancellationToken = default)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(factory);
        await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        return Attach(session, factory, configure);
    }

    private static TContext Attach<TContext>(DbSession session, Func<DbContextOptions<TContext>, TContext> factory, Action<DbContextOptionsBuilder<TContext>>? configure)
        where TContext : DbContext
    {
        DbConnection connection = session.Connection;
        DbTransaction transaction = session.Transaction;
        DbContextOptions<TContext> options = ContextOptions<TContext>.For(ContextOptions.ProviderOf(connection), configure);
        TContext context = factory(options) ?? throw ThrowHelper.FactoryReturnedNull(typeof(TContext));
        try
        {
            // The options carry no connection (so they can be shared); this one is the session's, and EF does not own it.
            context.Database.SetDbConnection(connection, contextOwnsConnection: false);
            context.Database.UseTransaction(transaction);
            if (context.Database.CreateExecutionStrategy().RetriesOnFailure)
            {
                throw ThrowHelper.RetryingExecutionStrategy(typeof(TContext));
            }
        }
        catch
        {
            context.Dispose();
            throw;
        }

        return context;
    }
}
