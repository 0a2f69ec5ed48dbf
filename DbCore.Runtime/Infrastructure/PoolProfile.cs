using System.ComponentModel;

namespace DbCore.Infrastructure;

/// <summary>One <c>[PoolProfile]</c> as the generator read it. Used by generated code.</summary>
/// <param name="Environment">The environment name (matched case-insensitively).</param>
/// <param name="Size">Connections kept open.</param>
/// <param name="MaxOverflow">Extra connections under load.</param>
/// <param name="AcquireTimeoutSeconds">Seconds a caller waits for a connection.</param>
/// <param name="RecycleSeconds">Seconds before a connection is replaced (0 = never).</param>
/// <param name="IdleSeconds">Seconds an idle connection above the size stays open.</param>
/// <param name="WarmUp">Open the pool size at start.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record PoolProfile(
    string Environment,
    int Size,
    int MaxOverflow,
    int AcquireTimeoutSeconds = PoolDefaults.AcquireTimeoutSeconds,
    int RecycleSeconds = PoolDefaults.RecycleSeconds,
    int IdleSeconds = PoolDefaults.IdleSeconds,
    bool WarmUp = false)
{
    /// <summary>The profiles that apply when a settings class declares none: the seed's Production 10/20 and Development 5/10.</summary>
    public static PoolProfile[] BuiltIn { get; } =
    [
        new("Production", PoolDefaults.Size, PoolDefaults.MaxOverflow),
        new("Development", 5, 10),
    ];
}
