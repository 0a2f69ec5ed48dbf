using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DbCore.Diagnostics;
using DbCore.Errors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>
/// The shared state of one accessor: the provider data source, the session counters, the logger and the telemetry tags.
/// Generated sessions receive it in their constructor; it has no public members of its own.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DatabaseEngine : IAsyncDisposable, IDisposable
{
    private readonly object _initLock = new();
    private volatile bool _initialized;
    private SqliteConnection? _keepAlive;
    private NpgsqlMultiHostDataSource? _multiHost;
    private readonly ILoggerFactory? _loggerFactory;
    private volatile DbDataSource? _probe;
    private volatile NpgsqlDataSource? _probeRoot;
    private int _inUse;
    private int _waiting;
    private long _totalOpened;
    private int _disposed;
    private readonly Action<NpgsqlDataSourceBuilder>? _configureNpgsql;
    private readonly Action<SqliteConnection>? _onSqliteOpened;
    private readonly SqliteConnectionCache? _sqliteCache;
    private readonly SqliteConnectionCache? _sqliteReadOnlyCache;

    internal DatabaseEngine(DatabaseOptions options, ILoggerFactory? loggerFactory, ProviderHooks? hooks = null)
    {
        Options = options;
        _configureNpgsql = hooks?.ConfigureNpgsql;
        _onSqliteOpened = hooks?.OnSqliteConnectionOpened;
        Name = options.Name;
        Logger = (ILogger?)loggerFactory?.CreateLogger("DbCore." + options.Name) ?? NullLogger.Instance;
        _loggerFactory = loggerFactory;

        if (options.Provider == DatabaseProvider.PostgreSql)
        {
            NpgsqlDataSourceBuilder builder = CreatePostgresBuilder(options.Name);
            bool severalHosts = NamesSeveralHosts(builder.ConnectionStringBuilder);
            if (severalHosts)
            {
                (DataSource, ReadOnlyDataSource) = BuildMultiHost(builder);
            }
            else
            {
                DataSource = builder.Build();
                ReadOnlyDataSource = DataSource;
            }

            if (builder.ConnectionStringBuilder is { Pooling: true, Multiplexing: false })
            {
                // Sessions draw from single-connection data sources (see ConnectionSlots); DataSource stays the accessor's
                // public data source for code outside sessions and opens nothing unless used.
                // Several hosts: one slot set over both kinds of session (MaxSize sessions, at most MaxSize connections
                // per host), each slot seen with the read-write target or preferring a standby.
                TargetSessionAttributes? target = severalHosts ? ReadWriteTarget(builder.ConnectionStringBuilder) : null;
                Slots = new ConnectionSlots(builder, target, options.Name, options.Pool.Size, options.Pool.MaxSize, options.Pool.AcquireTimeout, () => ErrorTranslator.PoolExhausted(this), OnConnectionsBroken);
            }

            Host = builder.ConnectionStringBuilder.Host ?? "";
            IsMultiplexing = builder.ConnectionStringBuilder.Multiplexing;
            DatabaseName = builder.ConnectionStringBuilder.Database ?? "";
        }
        else
        {
            SqliteConnectionStringBuilder csb = ProviderConnectionStrings.BuildSqlite(options);
            IsSqliteMemory = csb.Mode == SqliteOpenMode.Memory;
            IsSqliteFile = !IsSqliteMemory && csb.Mode != SqliteOpenMode.ReadOnly;
            DataSource = SqliteFactory.Instance.CreateDataSource(csb.ConnectionString);
            if (IsSqliteFile)
            {
                // Read-only sessions of a file database get their own pool of connections SQLite opens read-only: a write
                // fails as it would under PRAGMA query_only (SQLITE_READONLY), without two PRAGMAs around every session.
                var readOnly = new SqliteConnectionStringBuilder(csb.ConnectionString) { Mode = SqliteOpenMode.ReadOnly };
                ReadOnlyDataSource = SqliteFactory.Instance.CreateDataSource(readOnly.ConnectionString);
                SqliteReadOnlyPool = true;

                // Sessions hand their open connections to one another, so prepared statements survive the session
                // (SqliteConnectionCache); Pooling=False keeps one connection per session, closed at its end.
                if (csb.Pooling)
                {
                    Action reuseOff = () => Log.SqliteConnectionReuseOff(Logger, Name);
                    _sqliteCache = new SqliteConnectionCache(csb.ConnectionString, options.Pool.MaxSize, reuseOff);
                    _sqliteReadOnlyCache = new SqliteConnectionCache(readOnly.ConnectionString, options.Pool.MaxSize, reuseOff);
                }
            }
            else
            {
                ReadOnlyDataSource = DataSource;
            }
            Host = "localhost";
            DatabaseName = IsSqliteMemory ? ":memory:" : csb.DataSource;
            SqliteConnectionString = csb.ConnectionString;
        }

        Tags = CreateTags(options, DatabaseName);
        Telemetry.Register(this);
        Log.Started(Logger, Name, options.Environment, options.Provider, options.Pool.Size, options.Pool.MaxSize, Host, DatabaseName);
        foreach (string decision in options.HonouredKeywords)
        {
            Log.PoolKeywordHonoured(Logger, Name, decision);
        }
    }

    internal DatabaseOptions Options { get; }

    internal string Name { get; }

    internal ILogger Logger { get; }

    /// <summary>
    /// Whether COMMIT's guard reads the transaction status Npgsql keeps (<see cref="ServerTransactionStatus"/>) instead of
    /// sending its SAVEPOINT; false only in tests of the fallback.
    /// </summary>
    internal bool ReadsTransactionStatus { get; set; } = true;

    internal DbDataSource DataSource { get; }

    /// <summary>Where read-only sessions connect: a standby-preferring view of a multi-host source, else <see cref="DataSource"/>.</summary>
    internal DbDataSource ReadOnlyDataSource { get; }

    /// <summary>
    /// PostgreSQL with pooling and without multiplexing (one host or several): where sessions get their connection (one Npgsql
    /// data source per connection, so Npgsql's clear on a broken connection reaches that connection only); null otherwise.
    /// </summary>
    internal ConnectionSlots? Slots { get; }

    /// <summary>Whether the connection string names several hosts (<c>Host=a,b</c>).</summary>
    internal bool IsMultiHost => _multiHost is not null;

    /// <summary>
    /// PostgreSQL with <c>Multiplexing=true</c>: sessions without a transaction hold no physical connection, so DbCore's
    /// session count says nothing about the pool's saturation.
    /// </summary>
    internal bool IsMultiplexing { get; }

    internal string Host { get; }

    internal string DatabaseName { get; }

    internal KeyValuePair<string, object?>[] Tags { get; }

    internal bool IsSqliteMemory { get; }

    internal bool IsSqliteFile { get; }

    /// <summary>SQLite file: read-only sessions use <see cref="ReadOnlyDataSource"/>, opened with <c>Mode=ReadOnly</c>.</summary>
    internal bool SqliteReadOnlyPool { get; }

    internal string? SqliteConnectionString { get; }

    internal int WaitingCount => Volatile.Read(ref _waiting);

    /// <summary>The tags of every measurement and span of this accessor (see docs/observability.md).</summary>
    private static KeyValuePair<string, object?>[] CreateTags(DatabaseOptions options, string databaseName)
    {
        string system = options.Provider == DatabaseProvider.PostgreSql ? "postgresql" : "sqlite";
        return
        [
            new(Telemetry.DbSystemNameTag, system),
            new(Telemetry.DbSystemTag, system),
            new(Telemetry.DbNameTag, databaseName),
            new(Telemetry.PoolNameTag, options.Name),
            new(Telemetry.EnvironmentTag, options.Environment),
        ];
    }

    /// <summary>A builder for the connection string and settings of this accessor; <paramref name="name"/> names the data source.</summary>
    private NpgsqlDataSourceBuilder CreatePostgresBuilder(string name)
    {
        var builder = new NpgsqlDataSourceBuilder(Options.ParsedConnectionString.Normalized);
        ProviderConnectionStrings.ApplyPostgres(builder.ConnectionStringBuilder, Options);
        builder.Name = name;
        if (_loggerFactory is not null)
        {
            builder.UseLoggerFactory(_loggerFactory);
        }

        _configureNpgsql?.Invoke(builder);
        return builder;
    }

    /// <summary>
    /// Runs <see cref="ProviderHooks.OnSqliteConnectionOpened"/> on a connection a session just opened: once per connection
    /// when it stays open between sessions (<see cref="SqliteConnectionCache"/>), else on every open.
    /// </summary>
    internal void OnSqliteOpened(DbConnection connection)
    {
        if (_onSqliteOpened is not null && connection is SqliteConnection sqlite)
        {
            if (sqlite is ReusableSqliteConnection { HookRan: true })
            {
                return;
            }

            var reusable = sqlite as ReusableSqliteConnection;
            try
            {
                _onSqliteOpened(sqlite);
            }
            catch when (reusable is not null)
            {
                // Whatever the hook did before it threw stays on this connection: close it rather than hand it on.
                reusable.DoNotKeep = true;
                throw;
            }

            if (reusable is not null)
            {
                reusable.HookRan = true;
            }
        }
    }

    /// <summary>
    /// Opens a session's connection without <see cref="Slots"/>: on a SQLite file an open connection another session gave
    /// back (see <see cref="SqliteConnectionCache"/>), else one from the data source.
    /// </summary>
    internal DbConnection OpenConnection(bool readOnly)
    {
        if ((readOnly ? _sqliteReadOnlyCache : _sqliteCache) is { } cache)
        {
            return cache.Open();
        }

        DbDataSource source = Source(readOnly);
        if (Options.Provider == DatabaseProvider.PostgreSql)
        {
            return source.OpenConnection();
        }

        // SQLite without the cache (in-memory, Pooling=False, the cache off): a connection for this session alone, which
        // keeps the session's typed-query commands (SessionSqliteConnection).
        var connection = new SessionSqliteConnection(source.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static bool NamesSeveralHosts(NpgsqlConnectionStringBuilder builder)
        => builder.Host is { } host && host.Contains(',', StringComparison.Ordinal);

    /// <summary>
    /// Several hosts: one Npgsql multi-host source (one pool per host, host states shared) seen through two views. Sessions
    /// target the primary unless the connection string sets <c>Target Session Attributes</c>; read-only sessions prefer a
    /// standby and fall back to any host that is up.
    /// </summary>
    private (DbDataSource ReadWrite, DbDataSource ReadOnly) BuildMultiHost(NpgsqlDataSourceBuilder builder)
    {
        TargetSessionAttributes target = ReadWriteTarget(builder.ConnectionStringBuilder);
        NpgsqlMultiHostDataSource multiHost = builder.BuildMultiHost();
        _multiHost = multiHost;
        return (multiHost.WithTargetSession(target), multiHost.WithTargetSession(TargetSessionAttributes.PreferStandby));
    }

    /// <summary>What sessions target: <c>Target Session Attributes</c> when the connection string sets it, else the primary.</summary>
    private static TargetSessionAttributes ReadWriteTarget(NpgsqlConnectionStringBuilder builder)
        => ParseTargetSessionAttributes(builder.TargetSessionAttributes) ?? TargetSessionAttributes.Primary;

    private static TargetSessionAttributes? ParseTargetSessionAttributes(string? value)
        => value is { Length: > 0 } && Enum.TryParse(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out TargetSessionAttributes parsed)
            ? parsed
            : null;

    /// <summary>
    /// Multi-host only: forgets the cached primary/standby/offline state of every host so the next connection asks again,
    /// e.g. right after a failover instead of after <c>Host Recheck Seconds</c>.
    /// </summary>
    internal void ForgetHostStates()
    {
        _multiHost?.ClearDatabaseStates();
        (_probeRoot as NpgsqlMultiHostDataSource)?.ClearDatabaseStates();
        if (_multiHost is not null)
        {
            Slots?.ForgetHostStates();
        }
    }

    internal const string ConnectFailedEvidence = "a new connection could not be made";

    private const string ConnectionsBrokenEvidence = "a pooled connection checked after another one broke was dead too";

    private static readonly TimeSpan PoolClearInterval = TimeSpan.FromSeconds(1);

    private long _lastPoolClear;

    /// <summary>
    /// Evidence that the server went away (a fresh connect failed, or a pooled connection checked after another one broke
    /// was dead too, see <see cref="ConnectionSlots"/>): forgets the multi-host states, so the next attempt asks every host
    /// again (a promoted standby is found at once, not after Host Recheck Seconds), and clears the idle connections,
    /// which are most likely dead too; at most once per second. One broken connection alone is no such evidence: it
    /// costs that connection only (see <see cref="ConnectionSlots"/>).
    /// </summary>
    internal void OnServerWentAway(string evidence)
    {
        ForgetHostStates();
        if (Options.Provider != DatabaseProvider.PostgreSql)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long last = Interlocked.Read(ref _lastPoolClear);
        if (last != 0 && Stopwatch.GetElapsedTime(last, now) < PoolClearInterval)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lastPoolClear, now, last) == last)
        {
            Slots?.ClearAll();
            ((NpgsqlDataSource)(_multiHost ?? DataSource)).Clear();
            Log.PoolCleared(Logger, Name, evidence);
        }
    }

    private void OnConnectionsBroken() => OnServerWentAway(ConnectionsBrokenEvidence);

    internal PoolStatistics GetStatistics()
        => new(Volatile.Read(ref _inUse), Volatile.Read(ref _waiting), Interlocked.Read(ref _totalOpened), Options.Pool.Size, Options.Pool.MaxSize);

    /// <summary>
    /// Starts acquiring a connection: the caller counts as waiting until <see cref="EndWait"/>. Returns the start timestamp,
    /// or 0 when no listener records the acquire or session durations (the clock is not read for nobody). The session
    /// awaits the provider itself (<see cref="NpgsqlSource"/> or <see cref="Source"/>), so the open path has one async state
    /// machine, not two.
    /// </summary>
    internal long BeginAcquire()
    {
        Interlocked.Increment(ref _waiting);
        return Telemetry.AcquireDuration.Enabled || Telemetry.SessionDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
    }

    /// <summary>SQLite's one-time setup (shared in-memory database, WAL); call inside the acquire's try so its errors are translated.</summary>
    internal void EnsureReady()
    {
        if (!_initialized)
        {
            EnsureInitialized();
        }
    }

    internal void EndWait() => Interlocked.Decrement(ref _waiting);

    /// <summary>The data source for a session; <see cref="NpgsqlSource"/> is preferred when not null.</summary>
    internal DbDataSource Source(bool readOnly) => readOnly ? ReadOnlyDataSource : DataSource;

    /// <summary>
    /// The same data source typed as Npgsql's, so the open goes through <c>NpgsqlDataSource.OpenConnectionAsync</c> directly
    /// (the <c>DbDataSource</c> route adds an async wrapper per open); null for SQLite.
    /// </summary>
    internal NpgsqlDataSource? NpgsqlSource(bool readOnly) => (readOnly ? ReadOnlyDataSource : DataSource) as NpgsqlDataSource;

    /// <summary>For an exception filter on a failed acquire: counts acquire timeouts and returns true (chain it with &amp;&amp;).</summary>
    internal bool OnAcquireFailed(Exception exception)
    {
        Telemetry.CountAcquireFailure(exception, Tags);
        return true;
    }

    /// <summary>Counts an acquired session; returns whether the active-sessions gauge counted it (pass it to <see cref="OnReleased"/>).</summary>
    internal bool OnAcquired(long start)
    {
        Interlocked.Increment(ref _inUse);
        Interlocked.Increment(ref _totalOpened);
        if (start != 0 && Telemetry.AcquireDuration.Enabled)
        {
            Telemetry.AcquireDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, Tags);
        }

        if (Telemetry.ActiveSessions.Enabled)
        {
            Telemetry.ActiveSessions.Add(1, Tags);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Counts a released session. The gauge is decremented only for a session it counted, so a listener attached while
    /// sessions are open never sees it go negative.
    /// </summary>
    internal void OnReleased(long acquiredAt, bool activeCounted)
    {
        Interlocked.Decrement(ref _inUse);
        if (activeCounted)
        {
            Telemetry.ActiveSessions.Add(-1, Tags);
        }

        if (acquiredAt != 0 && Telemetry.SessionDuration.Enabled)
        {
            // 0: no listener when the session was acquired; a listener attached since then sees the sessions acquired after.
            Telemetry.SessionDuration.Record(Stopwatch.GetElapsedTime(acquiredAt).TotalSeconds, Tags);
        }
    }

    /// <summary>
    /// SQLite only, once: keeps a shared in-memory database alive for the accessor's lifetime and switches files to WAL.
    /// </summary>
    private void EnsureInitialized()
    {
        lock (_initLock)
        {
            if (_initialized)
            {
                return;
            }

            // After Dispose a keep-alive would keep the in-memory database alive with nothing left to close it.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (IsSqliteMemory)
            {
                var keepAlive = new SqliteConnection(SqliteConnectionString);
                keepAlive.Open();
                _keepAlive = keepAlive;
            }
            else if (IsSqliteFile)
            {
                using var connection = new SqliteConnection(SqliteConnectionString);
                connection.Open();
                using DbCommand command = connection.CreateCommand();
                command.CommandText = "PRAGMA journal_mode=WAL;";
                command.ExecuteNonQuery();
            }

            _initialized = true;
        }
    }

    /// <summary>
    /// Runs <c>SELECT 1</c> outside the session counters. PostgreSQL: on the probe's own connection (<see cref="ProbeSource"/>),
    /// so a pool whose every connection is busy does not make a healthy server look down. SQLite has no pool budget to
    /// stay out of: a plain connection of the accessor's data source.
    /// </summary>
    internal async ValueTask ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Options.Provider != DatabaseProvider.PostgreSql)
        {
            EnsureReady();
            await SelectOneAsync(DataSource, timeout, cancellationToken).ConfigureAwait(false);
            return;
        }

        DbDataSource probe = ProbeSource();
        try
        {
            await SelectOneAsync(probe, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The kept connection may be one the server has closed since (a restart, idle_session_timeout): one fresh
            // connection tells a dead connection from a dead server.
            _probeRoot?.Clear();
            await SelectOneAsync(probe, timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask SelectOneAsync(DbDataSource source, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DbConnection connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            DbCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT 1";
                command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The health probe's data source, built on the first probe from the same connection string and host settings (the
    /// same target session as <see cref="DataSource"/>): one connection at most, kept open between probes, outside the
    /// app's pool and its statistics. Disposed with the engine.
    /// </summary>
    private DbDataSource ProbeSource()
    {
        if (_probe is { } probe)
        {
            return probe;
        }

        lock (_initLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_probe is null)
            {
                NpgsqlDataSourceBuilder builder = CreatePostgresBuilder(Name + ".health");
                NpgsqlConnectionStringBuilder settings = builder.ConnectionStringBuilder;
                settings.MinPoolSize = 0;
                settings.MaxPoolSize = 1;
                settings.Multiplexing = false;
                if (_multiHost is not null)
                {
                    NpgsqlMultiHostDataSource multiHost = builder.BuildMultiHost();
                    _probeRoot = multiHost;
                    _probe = multiHost.WithTargetSession(ReadWriteTarget(settings));
                }
                else
                {
                    NpgsqlDataSource single = builder.Build();
                    _probeRoot = single;
                    _probe = single;
                }
            }

            return _probe;
        }
    }

    /// <summary>
    /// On dispose: takes what the engine built lazily (the probe's data source, the in-memory keep-alive) under the lock
    /// that builds them, so one being built right now is either taken here or refused (ObjectDisposedException).
    /// </summary>
    private (NpgsqlDataSource? Probe, SqliteConnection? KeepAlive) TakeLazyResources()
    {
        lock (_initLock)
        {
            (NpgsqlDataSource?, SqliteConnection?) taken = (_probeRoot, _keepAlive);
            _probe = null;
            _probeRoot = null;
            _keepAlive = null;
            return taken;
        }
    }

    /// <summary>Opens <see cref="PoolOptions.Size"/> connections at once and returns them to the pool.</summary>
    internal async ValueTask<int> WarmUpAsync(CancellationToken cancellationToken)
    {
        int target = Options.Provider == DatabaseProvider.PostgreSql ? Options.Pool.Size : Math.Min(Options.Pool.Size, 1);
        var connections = new DbConnection[target];
        var slots = new ConnectionSlots.Slot?[target];
        int opened = 0;
        long start = Stopwatch.GetTimestamp();
        try
        {
            for (; opened < target; opened++)
            {
                connections[opened] = await OpenForWarmUpAsync(opened, cancellationToken).ConfigureAwait(false);
            }

            Log.WarmUpCompleted(Logger, Name, opened, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.WarmUpFailed(Logger, Name, opened, ex);
        }
        finally
        {
            for (int i = 0; i < opened; i++)
            {
                bool returned = false;
                try
                {
                    await connections[i].DisposeAsync().ConfigureAwait(false);
                    returned = true;
                }
                catch (Exception ex)
                {
                    Log.WarmUpFailed(Logger, Name, opened, ex);
                }
                finally
                {
                    slots[i]?.Return(broken: false, quarantine: !returned);
                }
            }
        }

        return opened;

        async ValueTask<DbConnection> OpenForWarmUpAsync(int index, CancellationToken ct)
        {
            if (Slots is not { } slotSet)
            {
                return await DataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
            }

            ConnectionSlots.Slot slot = slotSet.TryRent() ?? slotSet.Taken(await slotSet.WaitAsync(ct).ConfigureAwait(false));
            try
            {
                DbConnection connection = await slot.OpenAsync(readOnly: false, ct).ConfigureAwait(false);
                slots[index] = slot;
                return connection;
            }
            catch
            {
                slot.Return(broken: false);
                throw;
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Telemetry.Unregister(this);
        _sqliteCache?.Dispose();
        _sqliteReadOnlyCache?.Dispose();
        if (Slots is not null)
        {
            await Slots.DisposeAsync().ConfigureAwait(false);
        }

        await (_multiHost ?? DataSource).DisposeAsync().ConfigureAwait(false);
        if (SqliteReadOnlyPool)
        {
            await ReadOnlyDataSource.DisposeAsync().ConfigureAwait(false);
        }

        (NpgsqlDataSource? probe, SqliteConnection? keepAlive) = TakeLazyResources();
        if (probe is not null)
        {
            await probe.DisposeAsync().ConfigureAwait(false);
        }

        // Closing the keep-alive frees the in-memory database: Microsoft.Data.Sqlite never pools Mode=Memory connections
        // (SqliteConnectionFactory makes their pool group non-pooled), so no idle handle is left to keep it alive.
        if (keepAlive is not null)
        {
            await keepAlive.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Telemetry.Unregister(this);
        _sqliteCache?.Dispose();
        _sqliteReadOnlyCache?.Dispose();
        Slots?.Dispose();
        (_multiHost ?? DataSource).Dispose();
        if (SqliteReadOnlyPool)
        {
            ReadOnlyDataSource.Dispose();
        }

        (NpgsqlDataSource? probe, SqliteConnection? keepAlive) = TakeLazyResources();
        probe?.Dispose();
        keepAlive?.Dispose();
    }
}
