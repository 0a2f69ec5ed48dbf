using System;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace DbCore.EntityFrameworkCore;

/// <summary>The provider of a session's connection, as EF Core needs to know it.</summary>
internal enum ContextProvider : byte
{
    Npgsql,
    Sqlite,
}

internal static class ContextOptions
{
    public static ContextProvider ProviderOf(DbConnection connection) => connection switch
    {
        NpgsqlConnection => ContextProvider.Npgsql,
        SqliteConnection => ContextProvider.Sqlite,
        _ => throw ThrowHelper.UnsupportedConnection(connection.GetType()),
    };
}

/// <summary>
/// Options for <typeparamref name="TContext"/> without a connection (each context gets its session's through
/// <c>SetDbConnection</c>), built once per provider and configure delegate: <see cref="DbContextOptions{TContext}"/> is
/// immutable and EF Core shares one instance between contexts itself (context pooling does).
/// </summary>
internal static class ContextOptions<TContext>
    where TContext : DbContext
{
    private static readonly ConditionalWeakTable<Action<DbContextOptionsBuilder<TContext>>, PerProvider> Configured = new();
    private static readonly PerProvider Plain = new();

    public static DbContextOptions<TContext> For(ContextProvider provider, Action<DbContextOptionsBuilder<TContext>>? configure)
    {
        // A weak table: a capturing lambda (a new delegate per call) leaves nothing behind once it is collected.
        PerProvider cached = configure is null ? Plain : Configured.GetValue(configure, static _ => new PerProvider());
        return provider == ContextProvider.Npgsql
            ? cached.Npgsql ??= Build(provider, configure)
            : cached.Sqlite ??= Build(provider, configure);
    }

    private static DbContextOptions<TContext> Build(ContextProvider provider, Action<DbContextOptionsBuilder<TContext>>? configure)
    {
        var builder = new DbContextOptionsBuilder<TContext>();
        if (provider == ContextProvider.Npgsql)
        {
            builder.UseNpgsql();
        }
        else
        {
            builder.UseSqlite();
        }

        configure?.Invoke(builder);
        return builder.Options;
    }

    /// <summary>Racing builds are harmless: both produce equal options, one wins.</summary>
    private sealed class PerProvider
    {
        public DbContextOptions<TContext>? Npgsql;
        public DbContextOptions<TContext>? Sqlite;
    }
}
