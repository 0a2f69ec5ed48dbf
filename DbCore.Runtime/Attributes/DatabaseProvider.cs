namespace DbCore;

/// <summary>The database provider a settings class talks to.</summary>
public enum DatabaseProvider
{
    /// <summary>Detect the provider from the connection string at startup (keyword form or URL).</summary>
    Auto = 0,

    /// <summary>PostgreSQL through Npgsql; the accessor and session expose the Npgsql types.</summary>
    PostgreSql = 1,

    /// <summary>SQLite through Microsoft.Data.Sqlite; the session exposes the Sqlite types.</summary>
    Sqlite = 2,
}
