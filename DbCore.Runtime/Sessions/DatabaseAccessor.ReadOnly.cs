using System;
using System.Threading;
using System.Threading.Tasks;

namespace DbCore;

/// <summary>Read-only sessions: reads that may be served by a standby (see docs/scale-out.md).</summary>
public abstract partial class DatabaseAccessor<TSession>
{
    /// <summary>
    /// Opens a session whose transaction is READ ONLY. With several hosts (<c>Host=a,b</c>) it prefers a standby and falls
    /// back to the primary when no standby is up; with one host it uses the same pool as <see cref="OpenSessionAsync"/>.
    /// Retries connection failures per the retry policy. Dispose it; a write in it fails with SQLSTATE 25006.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for a connection.</param>
    public ValueTask<TSession> OpenReadOnlySessionAsync(CancellationToken cancellationToken = default)
        => OpenSessionCoreAsync(readOnly: true, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> as one read-only unit of work (see <see cref="OpenReadOnlySessionAsync"/>): open, begin
    /// READ ONLY, run, commit; rolls back on any exception; retries transient failures per the retry policy. A standby may
    /// lag the primary: read your own writes with <see cref="DatabaseAccessor{TSession}.ExecuteAsync{T}"/> instead.
    /// </summary>
    /// <param name="work">The reads to run.</param>
    /// <param name="cancellationToken">Cancels the unit of work and any retry.</param>
    public Task<T> ExecuteReadOnlyAsync<T>(Func<TSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ToResultTask(work, verifyCommit: false, readOnly: true, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> as one read-only unit of work; see <see cref="ExecuteReadOnlyAsync{T}"/>.
    /// </summary>
    /// <param name="work">The reads to run.</param>
    /// <param name="cancellationToken">Cancels the unit of work and any retry.</param>
    public Task ExecuteReadOnlyAsync(Func<TSession, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ToUnitTask(ExecuteCoreAsync<object?>(null, work, verifyCommit: false, readOnly: true, completedWorkToken: 0, cancellationToken));
    }
}
