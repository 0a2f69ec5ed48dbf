using DbCore.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Tests.Queries;

/// <summary>
/// Generated [Query] methods against real databases: every return shape, mapping by name, NULL and row-count errors, typed
/// provider errors, and the same methods on SQLite and PostgreSQL (the provider chosen at run time).
/// </summary>
public abstract class QueryRuntimeTests<TDb, TSession>
    where TDb : DatabaseAccessor<TSession>
    where TSession : DbSession, ITodoQueries
{
    protected abstract Task<TDb> CreateAsync();

    protected virtual string Schema => TodoSchema.Sqlite;

    protected Task<TDb> WithSchemaAsync(TDb db) => TodoSchema.CreateAsync<TDb, TSession>(db, Schema);

    /// <summary>How a typed error names a method of the session: <c>Class.Method</c>.</summary>
    protected static string MethodName(string method) => typeof(TSession).Name + "." + method;

    [Fact]
    public async Task Every_shape_round_trips()
    {
        await using TDb db = await CreateAsync();
        var due = new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.Zero);
        Todo first = await db.ExecuteAsync((s, ct) => s.InsertAsync("write docs", false, Priority.High, due, ct));
        Todo second = await db.ExecuteAsync((s, ct) => s.InsertAsync("ship", true, Priority.Low, null, ct));
        Assert.Equal(new Todo(first.Id, "write docs", false), first);

        await using TSession session = db.CreateSession();
        Assert.Equal(first, await session.FindAsync(first.Id));
        Assert.Null(await session.FindAsync(-1));
        Assert.Equal(second, await session.GetAsync(second.Id));
        Assert.Equal(new[] { first, second }, await session.ListAsync());
        Assert.Equal(new[] { second }, await session.ListByDoneAsync(true));
        Assert.Equal(1L, await session.CountAsync("ship"));
        Assert.Equal("ship", await session.TitleAsync(second.Id));
        Assert.Null(await session.TitleAsync(-1));
        Assert.Equal(new List<(long, string)> { (first.Id, "write docs") }, await session.ByPriorityAsync(Priority.High));

        IReadOnlyList<TodoDetails> details = await session.DetailsAsync();
        Assert.Equal(2, details.Count);
        Assert.Equal(first.Id, details[0].Id);
        Assert.Equal(due, details[0].DueAt);          // due_at -> DueAt
        Assert.Equal(Priority.High, details[0].Priority);
        Assert.Null(details[1].DueAt);
        Assert.Equal("default", details[0].Untouched); // no column: the initializer stays

        var streamed = new List<Todo>();
        await foreach (Todo todo in session.StreamAsync())
        {
            streamed.Add(todo);
        }

        Assert.Equal(new[] { first, second }, streamed);
        await session.CommitAsync();

        Assert.Equal(1, await db.ExecuteAsync((s, ct) => s.RenameAsync(second.Id, "shipped", ct)));
        Assert.Equal(0, await db.ExecuteAsync((s, ct) => s.RenameAsync(-1, "nothing", ct)));
        await db.ExecuteAsync((s, ct) => s.DeleteAsync(first.Id, ct));
        Assert.Equal(new[] { new Todo(second.Id, "shipped", true) }, await db.ExecuteAsync((s, ct) => s.ListAsync(ct)));
    }

    [Fact]
    public async Task Null_for_a_non_nullable_member_is_a_typed_error_naming_method_column_and_member()
    {
        await using TDb db = await CreateAsync();
        Todo todo = await db.ExecuteAsync((s, ct) => s.InsertAsync("t", false, Priority.Low, null, ct));

        // A NULL title bound from a nullable parameter reaches the NOT NULL column: a typed constraint error, nothing written.
        await Assert.ThrowsAsync<NotNullViolationException>(() => db.ExecuteAsync((s, ct) => s.RenameAsync(todo.Id, null, ct)));

        await using TSession session = db.CreateSession();
        var nullDone = await Assert.ThrowsAsync<QueryResultException>(() => session.NullDoneAsync());
        Assert.Equal((MethodName("NullDoneAsync"), "done", "Done"), (nullDone.Method, nullDone.Column, nullDone.Member));
        var nullScalar = await Assert.ThrowsAsync<QueryResultException>(() => session.MaxNegativeIdAsync());
        Assert.Equal("the result", nullScalar.Member);

        var missing = await Assert.ThrowsAsync<QueryResultException>(() => session.WithoutDoneAsync());
        Assert.Equal(MethodName("WithoutDoneAsync"), missing.Method);
        Assert.Equal("Done", missing.Member);
        Assert.Contains("Done", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsigned_and_object_held_enum_arguments_bind_and_unsigned_members_read()
    {
        await using TDb db = await CreateAsync();
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.High, null, ct));
        Todo b = await db.ExecuteAsync((s, ct) => s.InsertAsync("b", true, Priority.Low, null, ct));
        Todo c = await db.ExecuteAsync((s, ct) => s.InsertAsync("c", false, Priority.High, null, ct));

        await using TSession session = db.CreateSession();
        Assert.Equal(new List<(ulong, uint)> { ((ulong)c.Id, 1) }, await session.UnsignedAsync((ulong)a.Id, (uint)c.Id, 1));
        Assert.Equal(new List<(ulong, uint)> { ((ulong)b.Id, 0) }, await session.UnsignedAsync(0, uint.MaxValue, 0));
        Assert.Empty(await session.UnsignedAsync(0, null, 1)); // id <= NULL: no row
        Assert.Equal(2L, await session.CountByObjectAsync(Priority.High));
        Assert.Equal(1L, await session.CountByObjectAsync((ushort)0));
        Assert.Equal(2L, await session.CountByObjectAsync(1UL));

        // A ulong above long.MaxValue fits no integer column of either provider: refused, naming the parameter, and the
        // session goes on.
        var after = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.UnsignedAsync(ulong.MaxValue, 1, 1));
        Assert.Equal("after", after.ParamName);
        var held = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.CountByObjectAsync(ulong.MaxValue));
        Assert.Equal("priority", held.ParamName);
        Assert.Equal(2L, await session.CountByObjectAsync(Priority.High));

        // Enums over unsigned types: values above int.MaxValue bind, long-sized ones round-trip; NULL stays NULL.
        Assert.Equal((Level.Mid, Mask.High, Small.Mid), await session.UnsignedEnumsAsync(Level.Mid, Mask.High, Small.Mid));
        Assert.True(await session.IsAboveIntMaxAsync(Level.Top));
        Assert.False(await session.IsAboveIntMaxAsync(Level.Mid));
        Assert.Equal((Level.None, (Mask?)null, Small.None), await session.UnsignedEnumsAsync(Level.None, null, Small.None));
        var mask = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.UnsignedEnumsAsync(Level.None, (Mask)ulong.MaxValue, Small.None));
        Assert.Equal("mask", mask.ParamName);
        var negative = await Assert.ThrowsAsync<QueryResultException>(() => session.NegativeLevelAsync());
        Assert.Equal((MethodName("NegativeLevelAsync"), "level"), (negative.Method, negative.Column));
        Assert.IsType<OverflowException>(negative.InnerException);
        await session.CommitAsync();
    }

    [Fact]
    public async Task An_error_in_a_statement_after_the_one_read_is_the_methods_typed_error()
    {
        await using TDb db = await CreateAsync();
        await using (TSession session = db.CreateSession())
        {
            await Assert.ThrowsAsync<NotNullViolationException>(() => session.CountThenFailingInsertAsync());
        }

        await using (TSession session = db.CreateSession())
        {
            await Assert.ThrowsAsync<NotNullViolationException>(() => session.SelectThenFailingInsertAsync());
        }

        await using (TSession session = db.CreateSession())
        {
            await Assert.ThrowsAsync<NotNullViolationException>(() => session.RowsThenFailingInsertAsync());
        }

        await using (TSession session = db.CreateSession())
        {
            var rows = new List<long>();
            await Assert.ThrowsAsync<NotNullViolationException>(async () =>
            {
                await foreach (long count in session.StreamThenFailingInsertAsync())
                {
                    rows.Add(count);
                }
            });
            Assert.Equal([0L], rows);
        }

        // The later statements still run, and Task<int> counts what they changed.
        Assert.Equal(1, await db.ExecuteAsync((s, ct) => s.SelectThenInsertAsync("after", ct)));
        Assert.Single(await db.ExecuteReadOnlyAsync((s, ct) => s.ListAsync(ct)));
    }

    [Fact]
    public async Task A_stream_stops_at_the_next_row_once_its_token_is_cancelled_even_when_that_row_is_buffered()
    {
        await using TDb db = await CreateAsync();
        for (int i = 0; i < 5; i++)
        {
            await db.ExecuteAsync((s, ct) => s.InsertAsync("t" + i, false, Priority.Low, null, ct));
        }

        await using TSession session = db.CreateSession();
        using var cts = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (Todo todo in session.StreamAsync().WithCancellation(cts.Token))
            {
                if (++seen == 2)
                {
                    await cts.CancelAsync();
                }
            }
        });
        Assert.Equal(2, seen);
        Assert.Equal(5, (await session.ListAsync()).Count); // the session goes on
    }

    [Fact]
    public async Task Sbyte_and_sbyte_enum_arguments_bind_as_smallint_and_read_checked()
    {
        await using TDb db = await CreateAsync();
        await db.ExecuteAsync((s, ct) => s.InsertAsync("low", false, Priority.Low, null, ct));
        await using TSession session = db.CreateSession();
        Assert.Equal(((sbyte)-128, (sbyte?)127, Signed.Min), await session.SignedBytesAsync(sbyte.MinValue, sbyte.MaxValue, Signed.Min));
        Assert.Equal(((sbyte)5, (sbyte?)null, Signed.Max), await session.SignedBytesAsync(5, null, Signed.Max));
        Assert.Equal(1L, await session.CountByObjectAsync(Signed.None)); // an object holding an sbyte enum
        Assert.Equal(1L, await session.CountByObjectAsync((sbyte)0));

        var tooLarge = await Assert.ThrowsAsync<QueryResultException>(() => session.TooLargeSignedAsync());
        Assert.Equal((MethodName("TooLargeSignedAsync"), "level!"), (tooLarge.Method, tooLarge.Column));
        Assert.IsType<OverflowException>(tooLarge.InnerException);
        Assert.Equal(((sbyte)5, (sbyte?)null, Signed.None), await session.SignedBytesAsync(5, null, Signed.None));
    }

    /// <summary>A constructor parameter with a default value needs no column: without one it gets its default (was DBC0105 / a QueryResultException).</summary>
    [Fact]
    public async Task A_constructor_parameter_with_a_default_value_takes_it_when_no_column_maps_to_it()
    {
        await using TDb db = await CreateAsync();
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));

        await using TSession session = db.CreateSession();
        TodoWithDefaults defaults = Assert.Single(await session.WithDefaultsAsync());
        Assert.Equal(new TodoWithDefaults(a.Id, "a"), defaults);
        Assert.Equal((true, -3, "none", Priority.High, 1.25m, null, long.MinValue), (defaults.Done, defaults.Rank, defaults.Note, defaults.Priority, defaults.Weight, defaults.DueAt, defaults.Big));
        Assert.True(double.IsNaN(defaults.Ratio));
        Assert.Equal(new DateTime(2000, 1, 1), defaults.Since); // [DateTimeConstant]: review helper-45, the generated code did not compile

        TodoWithDefaults matched = Assert.Single(await session.WithDefaultsMatchedByNameAsync());
        Assert.Equal(new TodoWithDefaults(a.Id, "a", Done: false, Rank: (int)a.Id * 10), matched);
    }

    [Fact]
    public async Task A_value_its_member_cannot_hold_is_a_typed_error_naming_method_column_and_member()
    {
        await using TDb db = await CreateAsync();
        await db.ExecuteAsync((s, ct) => s.InsertAsync("not a guid", false, Priority.Low, null, ct));

        await using TSession session = db.CreateSession();
        var negative = await Assert.ThrowsAsync<QueryResultException>(() => session.MinusOneAsync());
        Assert.Equal((MethodName("MinusOneAsync"), "minus_one", "the result"), (negative.Method, negative.Column, negative.Member));
        Assert.IsType<OverflowException>(negative.InnerException);
        Assert.Contains("'uint'", negative.Message, StringComparison.Ordinal);

        var text = await Assert.ThrowsAsync<QueryResultException>(() => session.TitleAsGuidAsync());
        Assert.Equal((MethodName("TitleAsGuidAsync"), "title", "Title"), (text.Method, text.Column, text.Member));
        Assert.Contains("'Guid'", text.Message, StringComparison.Ordinal);
        Assert.NotNull(text.InnerException);

        // Nothing is broken: the session reads on.
        Assert.Equal(1L, await session.CountAsync("not a guid"));
    }

    [Fact]
    public async Task A_placeholder_glued_to_a_concatenation_is_bound()
    {
        // '%'||@part||'%': before the generator took @part after '|' for a placeholder, the method failed to build (DBC0102,
        // the parameter unused); on PostgreSQL its positional text would have sent '||@part' as written.
        await using TDb db = await CreateAsync();
        await using TSession session = db.CreateSession();
        await session.InsertAsync("alpha", false, Priority.Low, null);
        await session.InsertAsync("beta", false, Priority.Low, null);
        Assert.Equal(1L, await session.ContainingAsync("lph"));
        Assert.Equal(2L, await session.ContainingAsync(""));
        Assert.Equal(0L, await session.ContainingAsync("x"));
    }

    [Fact]
    public async Task Wrong_row_count_is_a_typed_error_naming_the_method()
    {
        await using TDb db = await CreateAsync();
        await using TSession session = db.CreateSession();
        var none = await Assert.ThrowsAsync<QueryResultException>(async () => await session.GetAsync(42));
        Assert.Equal(MethodName("GetAsync"), none.Method);
        Assert.Contains("no row", none.Message, StringComparison.Ordinal);

        await session.InsertAsync("a", false, Priority.Low, null);
        await session.InsertAsync("b", false, Priority.Low, null);
        var many = await Assert.ThrowsAsync<QueryResultException>(() => session.FirstOfManyAsync());
        Assert.Contains("more than one row", many.Message, StringComparison.Ordinal);
        Assert.False(many.IsTransient);
    }

    [Fact]
    public async Task Cancellation_and_errors_arrive_in_the_returned_task_as_from_an_async_method()
    {
        // The generated Task methods return their pooled ValueTask body's Task, and ExecuteAsync its unit's: a caller
        // must still see what an async Task method gives: no synchronous throw, a Canceled task for a cancelled token,
        // a Faulted one for an error.
        await using TDb db = await CreateAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await using (TSession session = db.CreateSession())
        {
            Task<Todo?> find = session.FindAsync(1, cancelled.Token);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => find);
            Assert.True(find.IsCanceled, $"FindAsync with a cancelled token: {find.Status}");

            Task delete = session.DeleteAsync(1, cancelled.Token);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delete);
            Assert.True(delete.IsCanceled, $"DeleteAsync with a cancelled token: {delete.Status}");
        }

        Task<int> unit = db.ExecuteAsync((s, ct) => s.RenameAsync(1, "x", ct), cancelled.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unit);
        Assert.True(unit.IsCanceled, $"ExecuteAsync with a cancelled token: {unit.Status}");

        Task plain = db.ExecuteAsync((s, ct) => s.DeleteAsync(1, ct), cancelled.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => plain);
        Assert.True(plain.IsCanceled, $"ExecuteAsync (no result) with a cancelled token: {plain.Status}");

        await using (TSession session = db.CreateSession())
        {
            await session.InsertAsync("a", false, Priority.Low, null);
            await session.InsertAsync("b", false, Priority.Low, null);
            Task<Todo> many = session.FirstOfManyAsync();
            await Assert.ThrowsAsync<QueryResultException>(() => many);
            Assert.True(many.IsFaulted, $"FirstOfManyAsync over two rows: {many.Status}");
        }

        Task failed = db.ExecuteAsync((s, ct) => s.FirstOfManyAsync(ct));
        await Assert.ThrowsAsync<QueryResultException>(() => failed);
        Assert.True(failed.IsFaulted, $"ExecuteAsync whose work failed: {failed.Status}");
    }

    [Fact]
    public async Task Provider_errors_from_a_scoped_session_are_typed()
    {
        await using TDb db = await CreateAsync();
        await db.ExecuteAsync((s, ct) => s.InsertAsync("dup", false, Priority.Low, null, ct));

        await using TSession session = db.CreateSession();
        var ex = await Assert.ThrowsAsync<UniqueViolationException>(() => session.InsertAsync("dup", false, Priority.Low, null));
        Assert.IsNotType<DbCoreException>(ex.InnerException);
        Assert.True(ex.InnerException is PostgresException or SqliteException);
    }
}

/// <summary>The runtime tests on a SQLite file, and what only SQLite has: the write lock and SQL functions.</summary>
public abstract class SqliteQueryRuntimeTestsBase<TDb, TSession> : QueryRuntimeTests<TDb, TSession>, IDisposable
    where TDb : DatabaseAccessor<TSession>
    where TSession : DbSession, ITodoQueries
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-queries-").FullName;

    /// <summary>An accessor on the SQLite file <paramref name="file"/> (not created yet).</summary>
    protected TDb Create(string file, int commandTimeoutSeconds = 30) => CreateWith($"Data Source={file}", commandTimeoutSeconds);

    /// <summary>An accessor on <paramref name="connectionString"/>.</summary>
    protected abstract TDb CreateWith(string connectionString, int commandTimeoutSeconds = 30);

    protected string NewFile() => Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db");

    protected override Task<TDb> CreateAsync() => WithSchemaAsync(Create(NewFile()));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(":memory:")]
    [InlineData("Pooling=False")]
    public async Task A_method_called_many_times_in_one_unit_leaves_one_command_on_a_connection_kept_for_one_session(string kind)
    {
        // Review of 54fcc0f, F2: on a connection that serves one session only, every call created a command nobody disposed
        // (its statement's native memory waited for the finalizer, its entry stayed in the connection's list) until the
        // session's end: 2000 calls, 2000 commands. The session's connection now keeps one per SQL text.
        string cs = kind == ":memory:" ? "Data Source=:memory:" : $"Data Source={NewFile()};Pooling=False";
        await using TDb db = await WithSchemaAsync(CreateWith(cs));
        await using TSession session = db.CreateSession();
        Todo a = await session.InsertAsync("a", false, Priority.Low, null);
        for (int i = 0; i < 2000; i++)
        {
            Assert.Equal(a, await session.FindAsync(a.Id));
        }

        var connection = (SqliteConnection)session.Connection;
        Assert.True(CommandsOf(connection).Count < 10, $"{CommandsOf(connection).Count} commands on the connection after 2000 calls");
        await session.CommitAsync();
    }

    [Fact]
    public async Task A_kept_command_keeps_no_argument_of_the_call_alive_once_the_unit_ended()
    {
        // Review of 54fcc0f, F3: the connection-kept command held its parameters' values until its SQL ran again on that
        // connection, and idle connections stay open in the cache.
        await using TDb db = await CreateAsync();
        await db.ExecuteAsync((s, ct) => s.InsertAsync("kept", false, Priority.Low, null, ct));
        await ReuseScenario.AssertNoArgumentKeptAsync(fresh => db.ExecuteReadOnlyAsync((s, ct) => s.CountAsync(fresh(), ct)));
    }

    /// <summary>Microsoft.Data.Sqlite's list of the commands created on a connection (entries leave it when disposed).</summary>
    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Field, Name = "_commands")]
    protected static extern ref List<WeakReference<SqliteCommand>> CommandsOf(SqliteConnection connection);

    [Fact]
    public async Task A_query_method_that_writes_waits_for_the_write_lock_without_blocking_its_caller()
    {
        string file = NewFile();
        await using TDb db = await WithSchemaAsync(Create(file, commandTimeoutSeconds: 1));
        await using var holder = new SqliteConnection($"Data Source={file}");
        await holder.OpenAsync();
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        await using TSession session = db.CreateSession();
        Assert.Empty(await session.ListAsync()); // a read beside the writer: no lock, at once
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task<Todo> insert = session.InsertAsync("waits", false, Priority.Low, null);
        Assert.False(insert.IsCompleted, "the write blocked its caller while waiting for the lock");
        await Assert.ThrowsAsync<DatabaseBusyException>(() => insert);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"BUSY after {clock.Elapsed}, before the 1 s busy timeout");
    }
}

/// <summary>The provider-neutral generated code (DbCommand, the provider's async API) on SQLite.</summary>
public sealed class SqliteQueryRuntimeTests : SqliteQueryRuntimeTestsBase<QueryAny, QueryAnySession>
{
    protected override QueryAny CreateWith(string connectionString, int commandTimeoutSeconds = 30)
        => new(new QueryAnySettings { ConnectionString = connectionString, CommandTimeoutSeconds = commandTimeoutSeconds }, "Production");
}

/// <summary>The SQLite-pinned generated code (Microsoft.Data.Sqlite's synchronous API under the async methods).</summary>
public sealed class PinnedSqliteQueryRuntimeTests : SqliteQueryRuntimeTestsBase<QuerySqlite, QuerySqliteSession>
{
    protected override QuerySqlite CreateWith(string connectionString, int commandTimeoutSeconds = 30)
        => new(new QuerySqliteSettings { ConnectionString = connectionString, CommandTimeoutSeconds = commandTimeoutSeconds }, "Production");

    [Fact]
    public async Task A_kept_command_whose_reader_is_still_open_is_not_handed_out_again()
    {
        // Review of 51dcfec: the shelf handed out the command whose reader was still open, and running it again closes that
        // reader under its reader. Now that caller gets a command of its own, and the kept one comes back once its reader closed.
        await using QuerySqlite db = await CreateAsync();
        await using QuerySqliteSession session = db.CreateSession();
        await session.InsertAsync("a", false, Priority.Low, null);
        const string sql = "SELECT id FROM todos";
        SqliteCommand kept = session.KeptCommand(sql);
        using (SqliteDataReader reader = kept.ExecuteReader())
        {
            Assert.True(reader.Read());
            SqliteCommand other = session.KeptCommand(sql);
            Assert.NotSame(kept, other);
            Assert.Equal(1L, (long)other.ExecuteScalar()!);
            Assert.Equal(1L, reader.GetInt64(0));
        }

        Assert.Same(kept, session.KeptCommand(sql));
    }

    [Theory]
    [InlineData("")]
    [InlineData(";Pooling=False")]
    public async Task After_the_connection_closed_and_reopened_in_a_session_kept_commands_are_made_again(string options)
    {
        // Review of 51dcfec: Close disposes every command of the connection and drops it from its list, but the shelf kept
        // handing those out: on a reused connection TryReset then never saw them again. Now Close empties the shelf.
        await using QuerySqlite db = await WithSchemaAsync(CreateWith($"Data Source={NewFile()}{options}"));
        await using QuerySqliteSession session = db.CreateSession();
        const string sql = "SELECT count(*) FROM todos";
        SqliteCommand before = session.KeptCommand(sql);
        var connection = (SqliteConnection)session.Connection;
        connection.Close();
        connection.Open();
        SqliteCommand after = session.KeptCommand(sql);
        Assert.NotSame(before, after);
        Assert.Contains(CommandsOf(connection), w => w.TryGetTarget(out SqliteCommand? c) && ReferenceEquals(c, after));
    }

    [Fact]
    public async Task A_token_cancelled_while_the_rows_are_read_stops_the_read_at_the_next_row()
    {
        // The pinned code reads with the synchronous Read (no task per row) and checks the token before each next row, as
        // DbDataReader.ReadAsync does: a token cancelled while rows are read (here by a SQL function, at row 2 of 5) ends
        // the read with a Canceled task, not a complete list.
        await using QuerySqlite db = await CreateAsync();
        for (int i = 1; i <= 5; i++)
        {
            await db.ExecuteAsync((s, ct) => s.InsertAsync("t" + i, false, Priority.Low, null, ct));
        }

        using var cancel = new CancellationTokenSource();
        await using QuerySqliteSession session = db.CreateSession();
        int ticks = 0;
        bool armed = false;
        ((SqliteConnection)session.Connection).CreateFunction("tick", (long id) =>
        {
            ticks++;
            if (armed && id == 2)
            {
                cancel.Cancel();
            }

            return true;
        });

        Assert.Equal(5, (await session.TickingListAsync()).Count);
        (ticks, armed) = (0, true);
        Task<List<Todo>> list = session.TickingListAsync(cancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => list);
        Assert.True(list.IsCanceled, $"a list whose token was cancelled at row 2: {list.Status}");
        Assert.Equal(2, ticks);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresQueryRuntimeTests(PostgresServer server) : QueryRuntimeTests<QueryAny, QueryAnySession>
{
    protected override string Schema => TodoSchema.PostgreSql;

    protected override async Task<QueryAny> CreateAsync()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("queries");
        return await WithSchemaAsync(new QueryAny(new QueryAnySettings { ConnectionString = cs }, "Production"));
    }

    /// <summary>A pinned accessor on a new database with the schema, whose pool holds <paramref name="size"/> connections (no overflow).</summary>
    private async Task<QueryPg> CreatePinnedWithPoolAsync(string prefix, int size, int acquireTimeoutSeconds)
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync(prefix);
        await (await TodoSchema.CreateAsync<QueryPg, QueryPgSession>(new QueryPg(new QueryPgSettings { ConnectionString = cs }, "Production"), Schema)).DisposeAsync();
        var settings = new QueryPgSettings { ConnectionString = cs };
        settings.Pool.Size = size;
        settings.Pool.MaxOverflow = 0;
        settings.Pool.AcquireTimeoutSeconds = acquireTimeoutSeconds;
        return new QueryPg(settings, "Production");
    }

    private async Task<QueryPg> CreatePinnedAsync()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("queriespg");
        return await TodoSchema.CreateAsync<QueryPg, QueryPgSession>(new QueryPg(new QueryPgSettings { ConnectionString = cs }, "Production"), Schema);
    }

    [PostgresFact]
    public async Task Pinned_provider_binds_typed_parameters_arrays_and_nulls()
    {
        await using QueryPg db = await CreatePinnedAsync();
        Assert.Null((await db.ExecuteAsync((s, ct) => s.AllIdsAsync(ct))).Ids); // array_agg of nothing is NULL

        var due = new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.High, due, ct));
        Todo b = await db.ExecuteAsync((s, ct) => s.InsertAsync("b", true, Priority.Low, null, ct));
        Todo c = await db.ExecuteAsync((s, ct) => s.InsertAsync("c", false, Priority.Low, null, ct));

        await using QueryPgSession session = db.CreateSession();
        Assert.Equal(new[] { a, c }, await session.ByIdsAsync([c.Id, a.Id, -5]));
        Assert.Empty(await session.ByIdsAsync([]));
        Assert.Equal(new[] { b, c }, await session.ByTitlesAsync(["c", "b"]));
        Assert.Equal(new long[] { a.Id, b.Id, c.Id }, (await session.AllIdsAsync()).Ids);

        TodoDetails details = await session.DetailsAsync(a.Id);
        Assert.Equal(due, details.DueAt);
        Assert.Equal(Priority.High, details.Priority);

        // Nullable value and reference parameters send NULL; the same placeholder twice binds one parameter.
        Assert.Equal(1, await session.UpdateAsync(a.Id, "a2", null));
        Assert.Null((await session.DetailsAsync(a.Id)).DueAt);
        Assert.Equal(new[] { new Todo(a.Id, "a2", false) }, await session.RepeatedAsync("a2", 0));
        await session.CommitAsync();
    }

    [PostgresFact]
    public async Task Enum_and_unsigned_collections_are_arrays_of_their_underlying_type_pinned_or_not()
    {
        await using (QueryPg pinned = await CreatePinnedAsync())
        {
            await AssertArraysAsync<QueryPg, QueryPgSession>(pinned);
        }

        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("queriesarrays");
        await using QueryArrays any = await TodoSchema.CreateAsync<QueryArrays, QueryArraysSession>(new QueryArrays(new QueryArraysSettings { ConnectionString = cs }, "Production"), Schema);
        await AssertArraysAsync<QueryArrays, QueryArraysSession>(any);
    }

    private static async Task AssertArraysAsync<TAccessor, TArraySession>(TAccessor db)
        where TAccessor : DatabaseAccessor<TArraySession>
        where TArraySession : DbSession, IArrayQueries
    {
        Assert.Equal(new PriorityArrays(null, null), await db.ExecuteReadOnlyAsync((s, ct) => s.PriorityArraysAsync(ct)));
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.High, null, ct));
        Todo b = await db.ExecuteAsync((s, ct) => s.InsertAsync("b", true, Priority.Low, null, ct));

        await using TArraySession session = db.CreateSession();
        Assert.Equal(new[] { a }, await session.ByPrioritiesAsync([Priority.High]));
        Assert.Equal(new[] { a, b }, await session.ByPrioritiesAsync([Priority.Low, Priority.High]));
        Assert.Empty(await session.ByPrioritiesAsync([]));
        Assert.Equal(new[] { b }, await session.ByPriorityListAsync([Priority.Low, null], [(uint)a.Id, (uint)b.Id]));
        PriorityArrays arrays = await session.PriorityArraysAsync();
        Assert.Equal(new[] { Priority.High, Priority.Low }, arrays.Priorities);
        Assert.Equal(new List<ulong> { (ulong)a.Id, (ulong)b.Id }, arrays.Ids);
        LevelLists levels = await session.LevelListsAsync([Mask.High, Mask.None], [Small.Mid, null]);
        Assert.Equal(new List<Mask> { Mask.High, Mask.None }, levels.Masks);
        Assert.Equal(new Small?[] { Small.Mid, null }, levels.Smalls);
        Assert.Equal(2L, await session.CountTiniesAsync([Tiny.Max, Tiny.None, (Tiny)7]));
        var tooLarge = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.LevelListsAsync([Mask.High, (Mask)ulong.MaxValue], []));
        Assert.Equal("masks", tooLarge.ParamName);
        Assert.Equal(2L, await session.CountTiniesAsync([Tiny.Max, (Tiny)1]));
        Assert.Equal(new List<Signed?> { Signed.Min, null, Signed.Max }, (await session.SignedListAsync([Signed.Min, null, Signed.Max])).Vals);
        Assert.Equal(1L, await session.CountTitlesAsync(["a", null, "none"]));
        Assert.Equal(2L, await session.CountTitleListAsync([null, "a", "b"]));
        Assert.Equal(2L, await session.CountIdsInObjectAsync(new long[] { a.Id, b.Id, -1 })); // review helper-45: refused as "SQLite has no arrays"
    }

    /// <summary>
    /// Two calls at once on a session that is not open yet (a <c>Task.WhenAll</c> in a handler on the scoped session): the
    /// second used to start an open of its own, the session kept one connection and handed back the other's slot, and that
    /// slot's connection stayed checked out for good: every later session on it waited the acquire timeout and failed.
    /// </summary>
    [PostgresFact]
    public async Task Two_calls_at_once_on_an_unopened_session_fail_clearly_and_lose_no_connection()
    {
        // A new accessor, so the first open has to connect (it awaits the server) while the second call starts.
        await using QueryPg db = await CreatePinnedWithPoolAsync("queriesopening", size: 2, acquireTimeoutSeconds: 2);

        await using (QueryPgSession session = db.CreateSession())
        {
            Task<Todo?> first = session.FindAsync(1);
            Task<long> second = session.ContainingAsync("x");
            var ex = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => Task.WhenAll(first, second));
            Assert.Contains("not thread-safe", ex.Message, StringComparison.Ordinal);
            Assert.Null(await first); // the call that opened the session ran
        }

        Assert.Equal(0, db.GetPoolStatistics().InUse);
        for (int round = 0; round < 3; round++)
        {
            // Both slots usable at once, every round.
            await using QueryPgSession a = db.CreateSession();
            await using QueryPgSession b = db.CreateSession();
            Assert.Equal(0L, await a.ContainingAsync("none"));
            Assert.Equal(0L, await b.ContainingAsync("none"));
        }
    }

    /// <summary>
    /// A call the request did not await (a fire-and-forget audit query on the scoped session) still waits for a pool slot
    /// when the request ends and its scope disposes the session (review helper-44). The open used to finish afterwards, set
    /// the disposed session back to open, and keep its connection for good: the slot was lost, and with it the pool.
    /// </summary>
    [PostgresFact]
    public async Task A_session_disposed_while_its_open_waits_for_a_slot_gives_the_connection_back()
    {
        await using QueryPg db = await CreatePinnedWithPoolAsync("queriesdisposedopen", size: 1, acquireTimeoutSeconds: 10);

        QueryPgSession holder = db.CreateSession();
        Assert.Equal(0L, await holder.ContainingAsync("x"));
        QueryPgSession abandoned = db.CreateSession();
        Task<long> pending = abandoned.ContainingAsync("x");
        Assert.True(SpinWait.SpinUntil(() => db.GetPoolStatistics().Waiting == 1, TimeSpan.FromSeconds(5)), "the call waits for the slot");

        await abandoned.DisposeAsync(); // the request's scope ends
        await holder.DisposeAsync();    // the slot frees: the abandoned open gets it
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);

        Assert.Equal(0, db.GetPoolStatistics().InUse);
        await using QueryPgSession next = db.CreateSession();
        Assert.Equal(0L, await next.ContainingAsync("x"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => abandoned.ContainingAsync("x"));
    }

    /// <summary>
    /// The same fire-and-forget call, already running its command when the request's scope disposes the session (review
    /// helper-45). The dispose closed the Npgsql connection under the running command (Npgsql's connection is not
    /// thread-safe): the dispose could hang for good and keep the pool slot. It now waits for the command to end first.
    /// </summary>
    [PostgresFact]
    public async Task A_session_disposed_while_a_call_runs_its_command_waits_for_it_and_gives_the_connection_back()
    {
        await using QueryPg db = await CreatePinnedWithPoolAsync("queriesdisposedrunning", size: 1, acquireTimeoutSeconds: 10);

        for (int round = 0; round < 20; round++)
        {
            QueryPgSession abandoned = db.CreateSession();
            Task<long> running = abandoned.SleepAsync(0.05 + (round % 4) * 0.02);
            await Task.Delay(round % 3 * 10);
            Task dispose = abandoned.DisposeAsync().AsTask();
            Assert.Same(dispose, await Task.WhenAny(dispose, Task.Delay(TimeSpan.FromSeconds(10)))); // it does not hang
            await dispose;
            try
            {
                await running; // it ran to its end, or failed cleanly
            }
            catch (Exception ex) when (ex is ObjectDisposedException or DbCoreException or InvalidOperationException)
            {
            }

            Assert.Equal(0, db.GetPoolStatistics().InUse);
            await using QueryPgSession next = db.CreateSession();
            Assert.Equal(0L, await next.ContainingAsync("x"));
        }

        // A raw reader left open on the session's own thread is no call to wait for: the dispose closes it at once.
        QueryPgSession sloppy = db.CreateSession();
        Assert.Equal(0L, await sloppy.ContainingAsync("x"));
        var reader = await sloppy.CreateCommand("SELECT generate_series(1, 100000)").ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Task closing = sloppy.DisposeAsync().AsTask();
        Assert.Same(closing, await Task.WhenAny(closing, Task.Delay(TimeSpan.FromSeconds(5))));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    /// <summary>
    /// The N+1 loop: a query called inside the loop of a stream of the same session (or two calls at once on an open
    /// session). PostgreSQL runs one command at a time per connection; the second call was Npgsql's raw
    /// <c>NpgsqlOperationInProgressException</c> (a <c>DbException</c>, so handlers took it for a database failure), where
    /// the same mistake before the session opened is an <see cref="InvalidOperationException"/> naming the rule.
    /// </summary>
    [PostgresFact]
    public async Task A_query_inside_a_streams_loop_on_the_same_session_is_a_usage_error_naming_the_rule()
    {
        await using QueryAny any = await CreateAsync();
        await any.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));
        await using QueryPg pinned = await CreatePinnedAsync();
        await pinned.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));

        await using (QueryAnySession session = any.CreateSession())
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await foreach (Todo todo in session.StreamAsync())
                {
                    await session.FindAsync(todo.Id);
                }
            });
            AssertNamesTheRule(ex);
        }

        await using (QueryPgSession session = pinned.CreateSession())
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await foreach ((int X, int? Y) row in session.DividingAsync())
                {
                    await session.FindAsync(row.X);
                }
            });
            AssertNamesTheRule(ex);

            // Nothing broke: the session's next call works once the stream is closed.
            Assert.Equal(1L, await session.ContainingAsync("a"));
        }

        Assert.Equal(0, any.GetPoolStatistics().InUse);
        Assert.Equal(0, pinned.GetPoolStatistics().InUse);

        static void AssertNamesTheRule(InvalidOperationException ex)
        {
            Assert.Contains("one command at a time", ex.Message, StringComparison.Ordinal);
            Assert.Contains("Session: the session is still running another command", ex.Message, StringComparison.Ordinal);
            Assert.IsType<NpgsqlOperationInProgressException>(ex.InnerException);
        }
    }

    [PostgresFact]
    public async Task A_stream_whose_reader_fails_on_closing_is_typed_when_read_to_the_end_and_never_hides_the_callers_exception()
    {
        await using QueryPg db = await CreatePinnedAsync();
        await using QueryPgSession session = db.CreateSession();

        // Read on: the error is the stream's typed error (the reader was closed outside any translation: a raw PostgresException).
        var read = await Assert.ThrowsAsync<DbCoreException>(async () =>
        {
            await foreach ((int X, int? Y) row in session.DividingAsync())
            {
            }
        });
        Assert.Equal("22012", read.SqlState);

        // Left early: what closing the reader raised is recorded in the session, not thrown over the caller's own exception.
        await using QueryPgSession second = db.CreateSession();
        var own = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach ((int X, int? Y) row in second.DividingAsync())
            {
                throw new InvalidOperationException("the work's own failure");
            }
        });
        Assert.Equal("the work's own failure", own.Message);

        await using QueryPgSession third = db.CreateSession();
        await foreach ((int X, int? Y) row in third.DividingAsync())
        {
            break; // the rows after the first are not wanted; nothing is thrown for them
        }

        Assert.Equal(0L, await third.ContainingAsync("none"));
    }

    [PostgresFact]
    public async Task Pinned_provider_binds_a_placeholder_glued_to_a_concatenation()
    {
        await using QueryPg db = await CreatePinnedAsync();
        await db.ExecuteAsync((s, ct) => s.InsertAsync("alpha", false, Priority.Low, null, ct));
        Assert.Equal(1L, await db.ExecuteReadOnlyAsync((s, ct) => s.ContainingAsync("lph", ct)));
        Assert.Equal(0L, await db.ExecuteReadOnlyAsync((s, ct) => s.ContainingAsync("x", ct)));
    }

    [PostgresFact]
    public async Task A_statement_after_a_caught_error_that_broke_the_connection_is_a_typed_connection_failure()
    {
        // A parameter Npgsql cannot write (a DateTimeOffset with an offset, for timestamptz) breaks the connection
        // mid-message. The work that catches that and goes on got Npgsql's "Transaction is already completed" from its next
        // statement (review of 54fcc0f); now a ConnectionFailureException that says so, not transient (review of 1b06c24:
        // a retry would run again what the session sent outside its transaction, and the work's own argument breaks it again).
        var offset = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.FromHours(2));
        await using QueryPg db = await CreatePinnedAsync();
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));
        await using (QueryPgSession session = db.CreateSession())
        {
            await session.InsertAsync("b", false, Priority.Low, null);
            await Assert.ThrowsAsync<ArgumentException>(() => session.InsertAsync("c", false, Priority.Low, offset));
            var next = await Assert.ThrowsAsync<ConnectionFailureException>(() => session.FindAsync(a.Id));
            Assert.False(next.IsTransient);
            Assert.Contains("broke or was closed earlier in this session", next.Message, StringComparison.Ordinal);
            Assert.IsAssignableFrom<ArgumentException>(next.InnerException);
            await Assert.ThrowsAsync<ConnectionFailureException>(() => session.CommitAsync().AsTask());
        }

        int runs = 0;
        var unit = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (s, ct) =>
        {
            runs++;
            try
            {
                await s.InsertAsync("d", false, Priority.Low, offset, ct);
            }
            catch (ArgumentException)
            {
            }

            await s.InsertAsync("e", false, Priority.Low, null, ct);
        }));
        Assert.Equal(1, runs);
        Assert.Equal(1, unit.Attempts);
        Assert.False(unit.IsTransient);
        Assert.Empty(await db.ExecuteReadOnlyAsync((s, ct) => s.ByTitlesAsync(["b", "c", "d", "e"], ct)));
        Assert.Equal(a, await db.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(a.Id, ct)));
    }

    [PostgresFact]
    public async Task A_query_cancelled_while_it_runs_gives_a_canceled_task()
    {
        // The asynchronous path of the pooled body: the token fires while the server runs the statement (the
        // pre-cancelled tokens of the shared test complete synchronously).
        await using QueryPg db = await CreatePinnedAsync();
        await using (QueryPgSession session = db.CreateSession())
        {
            Assert.Equal(1L, await session.SleepAsync(0));
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            Task<long> sleeping = session.SleepAsync(30, cancel.Token);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeping);
            Assert.True(sleeping.IsCanceled, $"a query cancelled while it runs: {sleeping.Status}");
        }

        using var unitCancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Task<long> unit = db.ExecuteAsync((s, ct) => s.SleepAsync(30, ct), unitCancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unit);
        Assert.True(unit.IsCanceled, $"a unit cancelled while its query runs: {unit.Status}");
    }

    [PostgresFact]
    public async Task A_read_only_request_sends_only_its_query()
    {
        await using QueryPg db = await CreatePinnedAsync();
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.High, null, ct));
        string cs = db.Settings.ConnectionString;
        Dictionary<string, long> statements = await server.StatementsAsync(cs, async () =>
        {
            // The scoped-session idiom of a request handler: inject, query, dispose.
            await using QueryPgSession session = db.CreateSession();
            Assert.Equal(a, await session.FindAsync(a.Id));
        });

        // DISCARD ALL is Npgsql's pool reset of the connection the insert used; raw Npgsql sends it the same way.
        statements.Remove("DISCARD ALL");
        Assert.Equal(new Dictionary<string, long> { ["SELECT id, title, done FROM todos WHERE id = $1"] = 1 }, statements);
    }
}
