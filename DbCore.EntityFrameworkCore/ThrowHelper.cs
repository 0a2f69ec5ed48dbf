using System;

namespace DbCore.EntityFrameworkCore;

internal static class ThrowHelper
{
    public static InvalidOperationException FactoryReturnedNull(Type context)
        => new($"The factory passed to CreateDbContext<{context.Name}> returned null; return a new context built from the options it is given.");

    public static InvalidOperationException RetryingExecutionStrategy(Type context)
        => new($"{context.Name} is configured with a retrying EF Core execution strategy (EnableRetryOnFailure or ExecutionStrategy(...)), which cannot run inside a DbCore unit of work: EF Core refuses a transaction it did not begin, and retrying one SaveChanges inside a transaction the server already rolled back would be wrong. Remove it from the options passed to CreateDbContext; DbCore retries the whole unit (Retry:MaxAttempts).");

    public static NotSupportedException UnsupportedConnection(Type connection)
        => new($"CreateDbContext supports the sessions of PostgreSQL (NpgsqlConnection) and SQLite (SqliteConnection) accessors; this session's connection is a {connection.FullName}.");
}
