using System;
using System.Threading.Tasks;

namespace DbCore;

/// <summary>
/// Hands a unit of work's own completed work task back to the public <c>Task&lt;T&gt;</c> method when the whole unit ran
/// synchronously (a SQLite unit does: Microsoft.Data.Sqlite's async API runs its synchronous one), so that method returns
/// the task the work already allocated for its result instead of allocating a second one for the same result.
/// </summary>
/// <remarks>
/// A per-thread slot, read at once by the method that opened it: <see cref="Begin"/> opens it, the unit's method offers its
/// work task just before it returns, and <see cref="End{T}"/> takes it right after the unit's method returned. Only a unit
/// that completed synchronously is taken, and its offer is the last thing it did on this thread before returning, so the
/// slot always holds that unit's own task (a nested unit's offer is taken by its own <see cref="End{T}"/>; an offer on a
/// thread with no open slot is dropped, so no result is kept alive by a thread).
/// </remarks>
internal static class CompletedWork
{
    [ThreadStatic] private static bool t_open;
    [ThreadStatic] private static Task? t_task;

    /// <summary>Opens this thread's slot; returns whether an enclosing call had it open (give it to <see cref="End{T}"/>).</summary>
    public static bool Begin()
    {
        bool enclosing = t_open;
        t_open = true;
        t_task = null;
        return enclosing;
    }

    /// <summary>The unit's successfully completed work task, offered as the last step before the unit returns its result.</summary>
    public static void Offer(Task completedWork)
    {
        if (t_open)
        {
            t_task = completedWork;
        }
    }

    /// <summary>Closes the slot (restoring an enclosing call's) and returns the task offered since <see cref="Begin"/>, if any.</summary>
    public static Task<T>? End<T>(bool enclosing)
    {
        Task? task = t_task;
        t_task = null;
        t_open = enclosing;
        return task as Task<T>;
    }
}
