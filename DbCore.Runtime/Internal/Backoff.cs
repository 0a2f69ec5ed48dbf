using System;

namespace DbCore.Internal;

/// <summary>Exponential backoff with jitter: attempt n waits a random time in [d/2, d], d = min(max, base * 2^(n-1)).</summary>
internal static class Backoff
{
    public static TimeSpan Delay(RetryOptions retry, int attempt)
    {
        double exponential = retry.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        double capped = Math.Min(retry.MaxDelay.TotalMilliseconds, exponential);
        double jittered = (capped / 2) + (Random.Shared.NextDouble() * capped / 2);
        return TimeSpan.FromMilliseconds(jittered);
    }
}
