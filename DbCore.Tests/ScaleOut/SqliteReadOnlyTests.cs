using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.ScaleOut;

/// <summary>SQLite has no read-only transactions: read-only sessions use <c>PRAGMA query_only</c>, reset on return.</summary>
public sealed class SqliteReadOnlyTests
{
    [Fact]
    public async Task Read_only_session_rejects_writes_and_the_flag_does_not_leak_to_the_next_session()
    {
        var settings = new LocalSettings();
        settings.Pool.Size = 1;
        settings.Pool.MaxOverflow = 0;
        await using var db = new Local(settings, "Development");
        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand create = session.CreateCommand("CREATE TABLE items (id INTEGER)");
            await create.ExecuteNonQueryAsync(ct);
        });

        DbCoreException? ex = await Record.ExceptionAsync(() => db.ExecuteReadOnlyAsync(static async (session, ct) =>
        {
            await using SqliteCommand insert = session.CreateCommand("INSERT INTO items VALUES (1)");
            await insert.ExecuteNonQueryAsync(ct);
        })) as DbCoreException;
        long readOnlyFlag = await db.ExecuteReadOnlyAsync(static async (session, ct) =>
        {
            await using SqliteCommand pragma = session.CreateCommand("PRAGMA query_only");
            return (long)(await pragma.ExecuteScalarAsync(ct))!;
        });
        long count = await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand insert = session.CreateCommand("INSERT INTO items VALUES (2); SELECT count(*) FROM items; ");
            return (long)(await insert.ExecuteScalarAsync(ct))!;
        });

        Assert.NotNull(ex);
        Assert.Equal(1, readOnlyFlag);
        Assert.Equal(1, count);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
        Assert.Equal(4, db.GetPoolStatistics().TotalOpened);
    }
}
