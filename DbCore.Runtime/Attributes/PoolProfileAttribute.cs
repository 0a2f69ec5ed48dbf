using System;

namespace DbCore;

/// <summary>
/// Declares the connection pool for one environment (matched case-insensitively against the host environment name).
/// Without any profile the built-in ones apply: Production 10/20 and Development 5/10.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PoolProfileAttribute : Attribute
{
    /// <summary>Creates a profile for <paramref name="environment"/>.</summary>
    /// <param name="environment">The environment name, for example <c>Production</c> or <c>Development</c>.</param>
    public PoolProfileAttribute(string environment) => Environment = environment;

    /// <summary>The environment this profile applies to.</summary>
    public string Environment { get; }

    /// <summary>Connections kept open (PostgreSQL Minimum Pool Size). Must be at least 0.</summary>
    public int Size { get; set; } = PoolDefaults.Size;

    /// <summary>Extra connections above <see cref="Size"/> under load. Must be at least 0; Size + MaxOverflow must be at least 1.</summary>
    public int MaxOverflow { get; set; } = PoolDefaults.MaxOverflow;

    /// <summary>Seconds a caller waits for a free connection before failing (1..1024).</summary>
    public int AcquireTimeoutSeconds { get; set; } = PoolDefaults.AcquireTimeoutSeconds;

    /// <summary>Seconds after which a connection is replaced (0 = never).</summary>
    public int RecycleSeconds { get; set; } = PoolDefaults.RecycleSeconds;

    /// <summary>Seconds an idle connection above <see cref="Size"/> stays open (at least 10).</summary>
    public int IdleSeconds { get; set; } = PoolDefaults.IdleSeconds;

    /// <summary>Open <see cref="Size"/> connections when the accessor starts.</summary>
    public bool WarmUp { get; set; }
}
