using System;
using System.Collections.Generic;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>
/// The pool PostgreSQL sessions draw from: <see cref="PoolOptions.MaxSize"/> slots, each a Npgsql data source of one
/// connection (one per host with several hosts), behind one semaphore.
/// </summary>
/// <remarks>
/// <para>
/// Why: when one connection breaks with 57P01 or an I/O error, Npgsql clears the whole pool of its data source
/// (<c>NpgsqlConnector.Break</c> calls <c>DataSource.Clear()</c>, on purpose and with no switch: npgsql#2896), so one
/// killed backend rebuilds every pooled connection at once. With one connection per data source that clear reaches the
/// broken connection only; Npgsql's session reset on return, its prepared statements and its idle pruning are unchanged.
/// </para>
/// <para>
/// Evidence before eviction: a broken connection makes every other slot <em>suspect</em>. A suspect slot's connection is
/// checked with <c>SELECT 1</c> the next time a session takes it (one round trip, once); if that check finds it dead too,
/// two connections died, which is evidence that the server went away (a restart, a failover, idle_session_timeout): the
/// callback clears every slot, and the session connects afresh. One killed backend costs one reconnect and at most one
/// check per other connection; a restart costs one failed unit (retried) and one failed check, at any concurrency.
/// </para>
/// <para>
/// Order: the <see cref="PoolOptions.Size"/> base slots are handed out first, most recently returned first (their
/// connections stay warm and are never pruned); an overflow slot only when every base slot is in use, and its connection
/// closes after <c>Connection Idle Lifetime</c> unused. A slot's data source is built on first use, so a pool that never
/// needs more than three connections builds three (each loads the server's types once, about 130 KB).
/// </para>
/// </remarks>
internal sealed class ConnectionSlots : IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSourceBuilder _builder;
    private readonly TargetSessionAttributes? _target;
    private readonly string _name;
    private readonly int _baseCount;
    private readonly TimeSpan _acquireTimeout;
    private readonly int _checkTimeoutSeconds;
    private readonly Func<PoolExhaustedException> _exhausted;
    private readonly Action _serverWentAway;
    private readonly Slot[] _all;
    private readonly Slot[] _idleBase;
    private readonly Slot[] _idleOverflow;
    private readonly SemaphoreSlim _available;
    private readonly object _lock = new();
    private int _idleBaseCount;
    private int _idleOverflowCount;
    private volatile bool _disposed;

    /// <param name="builder">Configured for the accessor; kept and built once per slot (Npgsql clones its settings per build).</param>
    /// <param name="target">
    /// Several hosts: the read-write sessions' target; each slot is then a multi-host data source (one connection per host
    /// at most), seen with this target by read-write sessions and preferring a standby by read-only ones. <see langword="null"/>
    /// for one host.
    /// </param>
    /// <param name="name">The accessor's name; slot <c>i</c>'s data source is named <c>{name}#{i}</c>.</param>
    /// <param name="size">Base slots (Pool:Size).</param>
    /// <param name="maxSize">All slots (Pool:Size + Pool:MaxOverflow).</param>
    /// <param name="acquireTimeout">How long a session waits for a free slot; zero waits without limit (as Npgsql's <c>Timeout=0</c>).</param>
    /// <param name="exhausted">The error when no slot became free within <paramref name="acquireTimeout"/>.</param>
    /// <param name="serverWentAway">Called on evidence that the server went away (a suspect connection found dead).</param>
    internal ConnectionSlots(NpgsqlDataSourceBuilder builder, TargetSessionAttributes? target, string name, int size, int maxSize, TimeSpan acquireTimeout, Func<PoolExhaustedException> exhausted, Action serverWentAway)
    {
        _builder = builder;
        _target = target;
        _name = name;
        _baseCount = Math.Min(size, maxSize);
        _acquireTimeout = acquireTimeout > TimeSpan.Zero ? acquireTimeout : Timeout.InfiniteTimeSpan;
        _checkTimeoutSeconds = Math.Clamp(builder.ConnectionStringBuilder.CommandTimeout, 1, 5);
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
    internal Slot? TryRent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _available.Wait(0) ? Take() : null;
    }

    /// <summary>
    /// Waits for a free slot up to the acquire timeout (async waiters are served in order); pass the result to
    /// <see cref="Taken"/>. Two steps rather than one async method, so that a waiting open allocates no state machine of
    /// its own over the semaphore's (at high concurrency every wait allocates one).
    /// </summary>
    internal Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _available.WaitAsync(_acquireTimeout, cancellationToken);
    }

    /// <summary>The slot a <see cref="WaitAsync"/> that returned <paramref name="acquired"/> earned, or the exhausted-pool error.</summary>
    internal Slot Taken(bool acquired) => acquired ? Take() : throw _exhausted();

    /// <summary>Waits (blocking) for a free slot up to the acquire timeout.</summary>
    internal Slot Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
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
            slot.Suspect = false;
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
        lock (_lock)
        {
            // The semaphore admitted this caller, so a slot is idle.
            return _idleBaseCount > 0 ? _idleBase[--_idleBaseCount] : _idleOverflow[--_idleOverflowCount];
        }
    }

    /// <summary>
    /// Gives a slot back. <paramref name="broken"/>: its connection broke during the session (Npgsql has discarded it),
    /// which makes every other slot suspect. <paramref name="quarantine"/>: its connection may not have gone back to its
    /// data source (the dispose threw), so the data source is dropped and the slot builds a new one on its next use.
    /// </summary>
    private void Return(Slot slot, bool broken, bool quarantine)
    {
        try
        {
            if (quarantine)
            {
                Quarantine(slot);
            }
            else if (broken && slot.Root is NpgsqlMultiHostDataSource multiHost)
            {
                // Npgsql marked the host offline for Host Recheck Seconds on this break: in a data source of one connection
                // that would keep this slot off a healthy primary. One break is no evidence; a dead host fails the next connect.
                multiHost.ClearDatabaseStates();
            }
        }
        finally
        {
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

        if (broken)
        {
            foreach (Slot other in _all)
            {
                if (!ReferenceEquals(other, slot) && other.Root is not null)
                {
                    other.Suspect = true;
                }
            }
        }
    }

    private void Quarantine(Slot slot)
    {
        NpgsqlDataSource? root;
        lock (_builder)
        {
            root = slot.Root;
            slot.Root = null;
            slot.Source = null;
            slot.ReadOnlySource = null;
        }

        root?.Dispose();
    }

    /// <summary>A suspect slot's connection failed its check: two connections died, so the server most likely went away.</summary>
    private void OnCheckFailed()
    {
        try
        {
            _serverWentAway();
        }
        catch (Exception)
        {
            // The clear is an optimisation: a throwing log sink must not fail the session that found the evidence.
        }
    }

    private NpgsqlDataSource Build(Slot slot, bool readOnly)
    {
        lock (_builder)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if ((readOnly ? slot.ReadOnlySource : slot.Source) is { } built)
            {
                return built;
            }

            if (slot.Root is null)
            {
                NpgsqlConnectionStringBuilder settings = _builder.ConnectionStringBuilder;
                settings.MaxPoolSize = 1;

                // Several hosts: a slot that asked a standby while looking for the primary keeps that connection idle in
                // the standby's pool of one; with no minimum it closes after Connection Idle Lifetime.
                settings.MinPoolSize = slot.Index < _baseCount && _target is null ? 1 : 0;

                // Inside a TransactionScope Npgsql would keep an enlisted connection out of its pool of one after the
                // session returned the slot; DbCore's sessions run their own transactions.
                settings.Enlist = false;
                _builder.Name = _name + "#" + slot.Index.ToString(CultureInfo.InvariantCulture);
                if (_target is not null)
                {
                    slot.Root = _builder.BuildMultiHost();
                }
                else
                {
                    NpgsqlDataSource single = _builder.Build();
                    slot.Root = single;
                    slot.Source = single;
                    slot.ReadOnlySource = single;
                }
            }

            if (slot.Root is NpgsqlMultiHostDataSource multiHost)
            {
                slot.Source ??= multiHost.WithTargetSession(_target!.Value);
                slot.ReadOnlySource ??= multiHost.WithTargetSession(TargetSessionAttributes.PreferStandby);
            }

            return (readOnly ? slot.ReadOnlySource : slot.Source)!;
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
                    slot.ReadOnlySource = null;
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

        /// <summary>Where read-write sessions connect (a target view of <see cref="Root"/> for several hosts); built on first use.</summary>
        internal volatile NpgsqlDataSource? Source;

        /// <summary>Where read-only sessions connect (standby-preferring for several hosts, else <see cref="Source"/>).</summary>
        internal volatile NpgsqlDataSource? ReadOnlySource;

        /// <summary>The data source this slot built, to clear and dispose.</summary>
        internal volatile NpgsqlDataSource? Root;

        /// <summary>Another slot's connection broke since this slot's connection was last used: check it before use.</summary>
        internal volatile bool Suspect;

        /// <summary>Opens this slot's connection (Npgsql's pooled open: no wait, the slot is this session's alone).</summary>
        internal ValueTask<NpgsqlConnection> OpenAsync(bool readOnly, CancellationToken cancellationToken)
        {
            NpgsqlDataSource source = (readOnly ? ReadOnlySource : Source) ?? _owner.Build(this, readOnly);
            return Suspect ? OpenCheckedAsync(source, cancellationToken) : source.OpenConnectionAsync(cancellationToken);
        }

        /// <inheritdoc cref="OpenAsync"/>
        internal NpgsqlConnection Open(bool readOnly)
        {
            NpgsqlDataSource source = (readOnly ? ReadOnlySource : Source) ?? _owner.Build(this, readOnly);
            NpgsqlConnection connection = source.OpenConnection();
            if (!Suspect)
            {
                return connection;
            }

            Suspect = false;
            try
            {
                using var check = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = _owner._checkTimeoutSeconds };
                check.ExecuteScalar();
                return connection;
            }
            catch (Exception ex)
            {
                bool dead = IsDeadConnection(ex, connection);
                connection.Dispose();
                if (!dead)
                {
                    throw;
                }

                _owner.OnCheckFailed();
                return source.OpenConnection();
            }
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<NpgsqlConnection> OpenCheckedAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
        {
            Suspect = false;
            NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var check = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = _owner._checkTimeoutSeconds };
                await using (check.ConfigureAwait(false))
                {
                    await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                }

                return connection;
            }
            catch (Exception ex)
            {
                bool dead = IsDeadConnection(ex, connection);
                await connection.DisposeAsync().ConfigureAwait(false);
                if (!dead)
                {
                    throw;
                }

                _owner.OnCheckFailed();
                return await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The check's connection broke (the server had closed it); anything else is the check's own problem and propagates.</summary>
        private static bool IsDeadConnection(Exception exception, NpgsqlConnection connection)
            => exception is NpgsqlException && connection.FullState == ConnectionState.Broken;

        /// <summary>Whether a session's connection broke (Npgsql has discarded it); ask before disposing it.</summary>
        internal static bool IsBroken(DbConnection connection)
            => connection is NpgsqlConnection { FullState: ConnectionState.Broken };

        /// <summary>Gives the slot back; call after the session disposed its connection (or failed to).</summary>
        /// <param name="broken">The connection broke during the session.</param>
        /// <param name="quarantine">Disposing the connection threw: it may still be out of its data source.</param>
        internal void Return(bool broken, bool quarantine = false) => _owner.Return(this, broken, quarantine);
    }
}
