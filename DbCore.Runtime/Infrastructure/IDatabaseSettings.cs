using System.ComponentModel;

namespace DbCore.Infrastructure;

/// <summary>
/// The well-known settings every <c>[DatabaseSettings]</c> class gets from the generator. Implemented by generated code;
/// not meant to be implemented by hand.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IDatabaseSettings
{
    /// <summary>The connection string (the property marked <c>[ConnectionString]</c>).</summary>
    string? ConnectionString { get; }

    /// <summary>The provider from configuration, or <see langword="null"/> for the attribute's.</summary>
    DatabaseProvider? Provider { get; }

    /// <summary>The pool values from configuration.</summary>
    PoolSettings Pool { get; }

    /// <summary>The retry values from configuration.</summary>
    RetrySettings Retry { get; }

    /// <summary>Command timeout in seconds (0 = none).</summary>
    int? CommandTimeoutSeconds { get; }

    /// <summary>Health check timeout in seconds.</summary>
    int? HealthTimeoutSeconds { get; }

    /// <summary>Where the connection string came from (a configuration key, an environment variable...), for messages.</summary>
    string? ConnectionStringSource { get; }

    /// <summary>Records where the connection string came from. Called by the generated binder.</summary>
    void SetConnectionStringSource(string source);
}
