namespace DbCore;

/// <summary>
/// The retry values of a settings class as bound from configuration (<c>{Section}:Retry:*</c>) or set by the
/// <c>configure</c> delegate. A <see langword="null"/> value takes the default.
/// </summary>
public sealed class RetrySettings
{
    /// <summary>Attempts per unit of work, 1 = no retry (key <c>Retry:MaxAttempts</c>, 1..10; default 3 in Production, 1 elsewhere).</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>First backoff delay in milliseconds (key <c>Retry:BaseDelayMilliseconds</c>, default 50).</summary>
    public int? BaseDelayMilliseconds { get; set; }

    /// <summary>Largest backoff delay in milliseconds (key <c>Retry:MaxDelayMilliseconds</c>, default 2000).</summary>
    public int? MaxDelayMilliseconds { get; set; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{{ MaxAttempts = {MaxAttempts}, BaseDelayMilliseconds = {BaseDelayMilliseconds}, MaxDelayMilliseconds = {MaxDelayMilliseconds} }}";
}
