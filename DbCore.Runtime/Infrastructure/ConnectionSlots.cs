using System;
using System.Collections.Generic;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>
/// The pool PostgreSQL sessions draw from: <see cref="PoolOptions.MaxSize"/> slots, each a Npgsql data source
/// of one connection, behind one semaphore.
/// </summary>
/// <remarks>
/// <para>
/// Why: when one connection breaks with 57P01 or an I/O error, Npgsql clears the whole pool of its data source
/// (<c>NpgsqlConnector.Break</c> calls <c>DataSource.Clear()</c>, on purpose and with no switch: npgsql#2896), so one
/// killed backend rebuilds every pooled connection at once. With one connection per data source that clear reaches the
/// broken connection only; Npgsql's session reset on return, its prepared statements and its idle pruning are unchanged.
/// </para>
/// <para>
/// Order: the <see cref="PoolOptions.Size"/> base slots are handed out first, most recently returned first
/// (their connections stay warm and are never pruned); an overflow slot only when every base slot is in use, and its
/// connection closes after <c>Connection Idle Lifetime</c> unused. Waiters are served in order (a <see cref="SemaphoreSlim"/>).
/// </para>
/// <para>
/// A slot's data source is built on first use, so a pool that never needs more than three connections builds three (each
/// loads the server's types once, about 130 KB).
/// </para>
/// </remarks>
internal sealed class ConnectionSlots : IAsyncDisposable, IDisposable
{
    /// <summary>Two different connections broken within this window are evidence that the server went away.</summary>
    internal static readonly TimeSpan BreakWindow = TimeSpan.FromSeconds(2);

    private readonly NpgsqlDataSourceBuilder _builder;
    private readonly TargetSessionAttributes? _target;
    private readonly string _name;
    private readonly int _baseCount;
    private readonly TimeSpan _acquireTimeout;
    private readonly Func<PoolExhaustedException> _exhausted;
    private readonly Action _serverWentAway;
    private readonly Slot[] _all;
    private readonly Slot[] _idleBase;
    private readonly Slot[] _idleOverflow;
    private readonly SemaphoreSlim _available;
    private readonly object _lock = new();
    private int _idleBaseCount;
    private int _idleOverflowCount;
    private long _lastBreakAt;
    private int _lastBrokenSlot = -1;
    private volatile bool _disposed;

    /// <param name="builder">
    /// Configured for the accessor; kept and built once per slot (Npgsql clones its settings per build). Several slot
    /// sets may share it: builds lock on it.
    /// </param>
    /// <param name="target">
    /// Several hosts: each slot is a multi-host data source (one connection per host at most) seen with this target;
    /// <see langword="null"/> for one host.
    /// </param>
    /// <param name="name">The slot set's name; slot <c>i</c>'s data source is named <c>{name}#{i}</c>.</param>
    /// <param name="size">Base slots (Pool:Size).</param>
    /// <param name="maxSize">All slots (Pool:Size + Pool:MaxOverflow).</param>
    /// <param name="acquireTimeout">How long a session waits for a free slot; zero waits without limit (as Npgsql's <c>Timeout=0</c>).</param>
    /// <param name="exhausted">The error when no slot became free within <paramref name="acquireTimeout"/>.</param>
    /// <param name="serverWentAway">Called on evidence that the server went away (see <see cref="Return"/>).</param>
    internal ConnectionSlots(NpgsqlDataSourceBuilder builder, TargetSessionAttributes? target, string name, int size, int maxSize, TimeSpan acquireTimeout, Func<PoolExhaustedException> exhausted, Action serverWentAway)
    {
        _builder = builder;
        _target = target;
        _name = name;
        _baseCount = Math.Min(size, maxSize);
        _acquireTimeout = acquireTimeout > TimeSpan.Zero ? acquireTimeout : Timeout.InfiniteTimeSpan;
        _exhausted = exhausted;
        _serverWentAway = serverWentAway;
        _all = new Slot[maxSize];
        _idleBase = new Slot[_baseCount];
        _idleOverflow = new Slot[maxSize - _baseCount];
        for (int i = maxSize - 1; i >= 0; i--)
        {
            var slot = new Slot(this, i);
            _all[i] = slot;
            if (i < _baseCount)
            {
                _idleBase[_idleBaseCount++] = slot;
            }
            else
            {
                _idleOverflow[_idleOverflowCount++] = slot;
            }
        }

        _available = new SemaphoreSlim(maxSize, maxSize);
    }

    /// <summary>A free slot without waiting, or <see langword="null"/> when all are in use.</summary>
    internal Slot? TryRent() => _available.Wait(0) ? Take() : null;

    /// <summary>Waits for a free slot, in order, up to the acquire timeout.</summary>
    internal async ValueTask<Slot> RentAsync(CancellationToken cancellationToken)
    {
        if (!await _available.WaitAsync(_acquireTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw _exhausted();
        }

        return Take();
    }

    /// <summary>Waits (blocking) for a free slot, in order, up to the acquire timeout.</summary>
    internal Slot Rent()
    {
        if (!_available.Wait(_acquireTimeout))
        {
            throw _exhausted();
        }

        return Take();
    }

    /// <summary>
    /// Closes every idle connection now and every busy one when it is returned (Npgsql's <c>Clear</c> on each slot): on
    /// evidence that the server went away, so the next sessions connect afresh instead of failing on dead connections.
    /// </summary>
    internal void ClearAll()
    {
        foreach (Slot slot in _all)
        {
            slot.Root?.Clear();
        }
    }

    /// <summary>Several hosts: every slot forgets the cached primary/standby/offline state of each host.</summary>
    internal void ForgetHostStates()
    {
        foreach (Slot slot in _all)
        {
            (slot.Root as NpgsqlMultiHostDataSource)?.ClearDatabaseStates();
        }
    }

    private Slot Take()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_lock)
        {
            // The semaphore admitted this caller, so a slot is idle.
            return _idleBaseCount > 0 ? _idleBase[--_idleBaseCount] : _idleOverflow[--_idleOverflowCount];
        }
    }

    /// <summary>
    /// Gives a slot back. <paramref name="broken"/>: its connection broke during the session (Npgsql has already
    /// discarded it). A second different slot broken within <see cref="BreakWindow"/> is evidence that the server went
    /// away, not one backend.
    /// </summary>
    private void Return(Slot slot, bool broken)
    {
        if (broken)
        {
            OnBroken(slot.Index);
        }

        lock (_lock)
        {
            if (slot.Index < _baseCount)
            {
                _idleBase[_idleBaseCount++] = slot;
            }
            else
            {
                _idleOverflow[_idleOverflowCount++] = slot;
            }
        }

        _available.Release();
    }

    private void OnBroken(int index)
    {
        long now = Stopwatch.GetTimestamp();
        long previousAt = Interlocked.Exchange(ref _lastBreakAt, now);
        int previousSlot = Interlocked.Exchange(ref _lastBrokenSlot, index);
        if (previousAt != 0 && previousSlot != index && Stopwatch.GetElapsedTime(previousAt, now) < BreakWindow)
        {
            _serverWentAway();
        }
    }

    private NpgsqlDataSource Build(Slot slot)
    {
        lock (_builder)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (slot.Source is { } built)
            {
                return built;
            }

            NpgsqlConnectionStringBuilder settings = _builder.ConnectionStringBuilder;
            settings.MaxPoolSize = 1;

            // Several hosts: a slot that asked a standby while looking for the primary keeps that connection idle in the
            // standby's pool of one; with no minimum it closes after Connection Idle Lifetime.
            settings.MinPoolSize = slot.Index < _baseCount && _target is null ? 1 : 0;
            _builder.Name = _name + "#" + slot.Index.ToString(CultureInfo.InvariantCulture);
            NpgsqlDataSource source;
            if (_target is { } target)
            {
                NpgsqlMultiHostDataSource root = _builder.BuildMultiHost();
                slot.Root = root;
                source = root.WithTargetSession(target);
            }
            else
            {
                source = _builder.Build();
                slot.Root = source;
            }

            slot.Source = source;
            return source;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (NpgsqlDataSource source in TakeSources())
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (NpgsqlDataSource source in TakeSources())
        {
            source.Dispose();
        }
    }

    private NpgsqlDataSource[] TakeSources()
    {
        lock (_builder)
        {
            _disposed = true;
            var sources = new List<NpgsqlDataSource>();
            foreach (Slot slot in _all)
            {
                if (slot.Root is { } root)
                {
                    sources.Add(root);
                    slot.Root = null;
                    slot.Source = null;
                }
            }

            return [.. sources];
        }
    }

    /// <summary>One connection's place in the pool; a session holds it from open to dispose.</summary>
    internal sealed class Slot
    {
        private readonly ConnectionSlots _owner;

        internal Slot(ConnectionSlots owner, int index)
        {
            _owner = owner;
            Index = index;
        }

        internal int Index { get; }

        /// <summary>Where this slot's session connects (a target view of <see cref="Root"/> for several hosts); built on first use.</summary>
        internal volatile NpgsqlDataSource? Source;

        /// <summary>The data source this slot built, to clear and dispose.</summary>
        internal volatile NpgsqlDataSource? Root;

        /// <summary>Opens this slot's connection (Npgsql's pooled open: no wait, the slot is this session's alone).</summary>
        internal ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
            => (Source ?? _owner.Build(this)).OpenConnectionAsync(cancellationToken);

        /// <inheritdoc cref="OpenAsync"/>
        internal NpgsqlConnection Open() => (Source ?? _owner.Build(this)).OpenConnection();

        /// <summary>Whether a session's connection broke (Npgsql has discarded it); ask before disposing it.</summary>
        internal static bool IsBroken(DbConnection connection)
            => connection is NpgsqlConnection { FullState: ConnectionState.Broken };

        /// <summary>Gives the slot back; call after the session disposed its connection.</summary>
        internal void Return(bool broken) => _owner.Return(this, broken);
    }
}
