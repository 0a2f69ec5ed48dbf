using System;

namespace DbCore;

/// <summary>The resolved retry policy of an accessor.</summary>
public sealed class RetryOptions
{
    /// <summary>Creates a retry policy.</summary>
    public RetryOptions(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        MaxAttempts = maxAttempts;
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
    }

    /// <summary>Attempts per unit of work; 1 means no retry.</summary>
    public int MaxAttempts { get; }

    /// <summary>The first backoff delay; each further attempt doubles it, with jitter.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>The largest backoff delay.</summary>
    public TimeSpan MaxDelay { get; }

    /// <inheritdoc/>
    public override string ToString() => $"MaxAttempts={MaxAttempts}, BaseDelay={BaseDelay.TotalMilliseconds}ms, MaxDelay={MaxDelay.TotalMilliseconds}ms";
}
