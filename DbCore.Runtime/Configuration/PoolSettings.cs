namespace DbCore;

/// <summary>
/// The pool values of a settings class as bound from configuration (<c>{Section}:Pool:*</c>) or set by the
/// <c>configure</c> delegate. A <see langword="null"/> value falls back to the environment's pool profile.
/// </summary>
public sealed class PoolSettings
{
    /// <summary>Connections kept open (key <c>Pool:Size</c>, at least 0).</summary>
    public int? Size { get; set; }

    /// <summary>Extra connections under load (key <c>Pool:MaxOverflow</c>, at least 0).</summary>
    public int? MaxOverflow { get; set; }

    /// <summary>Seconds a caller waits for a connection (key <c>Pool:AcquireTimeoutSeconds</c>, 1..1024).</summary>
    public int? AcquireTimeoutSeconds { get; set; }

    /// <summary>Seconds before a connection is replaced, 0 = never (key <c>Pool:RecycleSeconds</c>).</summary>
    public int? RecycleSeconds { get; set; }

    /// <summary>Seconds an idle connection above the pool size stays open (key <c>Pool:IdleSeconds</c>, at least 10).</summary>
    public int? IdleSeconds { get; set; }

    /// <summary>Open <see cref="Size"/> connections at start (key <c>Pool:WarmUp</c>).</summary>
    public bool? WarmUp { get; set; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{{ Size = {Size}, MaxOverflow = {MaxOverflow}, AcquireTimeoutSeconds = {AcquireTimeoutSeconds}, RecycleSeconds = {RecycleSeconds}, IdleSeconds = {IdleSeconds}, WarmUp = {WarmUp} }}";
}
