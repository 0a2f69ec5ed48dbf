using System;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore;

/// <summary>
/// Code that configures the provider underneath an accessor: the <see cref="NpgsqlDataSourceBuilder"/> of every PostgreSQL
/// data source it builds (type and enum mapping, JSON, plugins, a periodic password provider, certificate callbacks), and
/// every SQLite connection a session opens (functions, collations, PRAGMAs, extensions). Pass it to the accessor's constructor, or
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
    /// Runs every time a session opens a SQLite connection, before its transaction begins: register functions and
    /// collations, run PRAGMAs, load extensions. Every open, not once per pooled connection: Microsoft.Data.Sqlite removes
    /// the functions and collations a connection registered when it is closed (returned to the pool), so they must be
    /// registered again; keep the hook cheap (a PRAGMA here is one statement per session). An exception fails the open.
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
