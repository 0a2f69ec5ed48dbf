using System;

namespace DbCore;

/// <summary>The resolved pool configuration of an accessor: the environment's profile with configuration applied.</summary>
public sealed class PoolOptions
{
    /// <summary>Creates resolved pool options.</summary>
    public PoolOptions(int size, int maxOverflow, TimeSpan acquireTimeout, TimeSpan recycle, TimeSpan idle, bool warmUp)
    {
        Size = size;
        MaxOverflow = maxOverflow;
        AcquireTimeout = acquireTimeout;
        Recycle = recycle;
        Idle = idle;
        WarmUp = warmUp;
    }

    /// <summary>Connections kept open (PostgreSQL Minimum Pool Size).</summary>
    public int Size { get; }

    /// <summary>Extra connections allowed above <see cref="Size"/>.</summary>
    public int MaxOverflow { get; }

    /// <summary><see cref="Size"/> + <see cref="MaxOverflow"/> (PostgreSQL Maximum Pool Size).</summary>
    public int MaxSize => Size + MaxOverflow;

    /// <summary>How long a caller waits for a free connection (PostgreSQL Timeout).</summary>
    public TimeSpan AcquireTimeout { get; }

    /// <summary>Age after which a connection is replaced; zero = never (PostgreSQL Connection Lifetime).</summary>
    public TimeSpan Recycle { get; }

    /// <summary>How long an idle connection above <see cref="Size"/> stays open (PostgreSQL Connection Idle Lifetime).</summary>
    public TimeSpan Idle { get; }

    /// <summary>Whether <see cref="Size"/> connections are opened at start.</summary>
    public bool WarmUp { get; }

    /// <inheritdoc/>
    public override string ToString()
        => $"Size={Size}, MaxOverflow={MaxOverflow}, MaxSize={MaxSize}, AcquireTimeout={AcquireTimeout.TotalSeconds}s, Recycle={Recycle.TotalSeconds}s, Idle={Idle.TotalSeconds}s, WarmUp={WarmUp}";
}
