using System;
using System.Threading;
using System.Threading.Tasks;

namespace DbCore;

/// <summary>
/// Hands a unit of work's own completed work task back to the public <c>Task&lt;T&gt;</c> method when the whole unit ran
/// synchronously (a SQLite unit does: Microsoft.Data.Sqlite's async API runs its synchronous one), so that method returns
/// the task the work already allocated for its result instead of allocating a second one for the same result.
/// </summary>
/// <remarks>
/// A per-thread slot owned by one call: <see cref="Begin"/> opens it with a token unique in the process, the unit's
/// method (given the token) offers its work task as it returns, and <see cref="End{T}"/> takes it right after the unit's
/// method returned. An offer is kept only on the thread whose slot holds the offering unit's token, so another unit that
/// resumes inline on this thread (a continuation run synchronously by a completed <c>TaskCompletionSource</c>) cannot
/// fill it, and an offer made after the unit resumed elsewhere is dropped (no thread keeps a result alive). Whatever
/// ran in between, a nested unit included, can only empty the slot (the caller then allocates the task as before), never
/// put another unit's task in it.
/// </remarks>
internal static class CompletedWork
{
    private static long s_lastToken;

    [ThreadStatic] private static long t_token;
    [ThreadStatic] private static Task? t_task;

    /// <summary>
    /// Opens this thread's slot for one call and returns its token (pass it to the unit's method and to
    /// <see cref="Offer"/>); <paramref name="enclosing"/> is an enclosing call's token, to give back to <see cref="End{T}"/>.
    /// </summary>
    public static long Begin(out long enclosing)
    {
        enclosing = t_token;
        long token = Interlocked.Increment(ref s_lastToken);
        t_token = token;
        t_task = null;
        return token;
    }

    /// <summary>The unit's successfully completed work task, offered as the unit returns its result.</summary>
    public static void Offer(long token, Task? completedWork)
    {
        if (token != 0 && completedWork is not null && t_token == token)
        {
            t_task = completedWork;
        }
    }

    /// <summary>Closes the slot (restoring an enclosing call's) and returns the task offered since <see cref="Begin"/>, if any.</summary>
    public static Task<T>? End<T>(long enclosing)
    {
        Task? task = t_task;
        t_task = null;
        t_token = enclosing;
        return task as Task<T>;
    }
}
