using System;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore;

/// <summary>
/// Code that configures the provider underneath an accessor: the <see cref="NpgsqlDataSourceBuilder"/> of every PostgreSQL
/// data source it builds (type and enum mapping, JSON, plugins, a periodic password provider, certificate callbacks), and
/// every new SQLite connection (functions, collations, PRAGMAs, extensions). Pass it to the accessor's constructor, or
/// register it with <see cref="ProviderHooksServiceCollectionExtensions.ConfigureDatabaseProvider{TAccessor}"/> to use the
/// <see cref="IServiceProvider"/>. See docs/integrations.md.
/// </summary>
public sealed class ProviderHooks
{
    /// <summary>
    /// Runs on every <see cref="NpgsqlDataSourceBuilder"/> DbCore builds for the accessor (the application's pool and the
    /// health probe's own one-connection source), after DbCore applied the connection string and pool settings. Values
    /// set here win; the probe keeps its one connection.
    /// </summary>
    public Action<NpgsqlDataSourceBuilder>? ConfigureNpgsql { get; set; }

    /// <summary>
    /// Runs on each new SQLite connection, before the transaction of its first session begins: register functions and
    /// collations, run PRAGMAs, load extensions. A SQLite file's connections stay open between sessions, so it runs once
    /// per connection there; where they do not (<c>Pooling=False</c>, an in-memory database) it runs on every open, since
    /// Microsoft.Data.Sqlite removes the functions and collations of a connection it closes. Keep it cheap. An exception
    /// fails the open.
    /// </summary>
    public Action<SqliteConnection>? OnSqliteConnectionOpened { get; set; }

    /// <summary>This instance followed by <paramref name="next"/>: each hook runs, then the next one's.</summary>
    internal ProviderHooks Then(ProviderHooks next)
    {
        Action<NpgsqlDataSourceBuilder>? npgsql = ConfigureNpgsql;
        Action<SqliteConnection>? sqlite = OnSqliteConnectionOpened;
        return new ProviderHooks
        {
            ConfigureNpgsql = npgsql is null ? next.ConfigureNpgsql : next.ConfigureNpgsql is null ? npgsql : builder =>
            {
                npgsql(builder);
                next.ConfigureNpgsql(builder);
            },
            OnSqliteConnectionOpened = sqlite is null ? next.OnSqliteConnectionOpened : next.OnSqliteConnectionOpened is null ? sqlite : connection =>
            {
                sqlite(connection);
                next.OnSqliteConnectionOpened(connection);
            },
        };
    }
}
