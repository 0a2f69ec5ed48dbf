using System.Threading;

namespace DbCore;

/// <summary>
/// Marks the async flow of a running unit of work, so a unit nested inside another (of any accessor) runs once and leaves
/// retrying to the outermost unit: attempts never multiply.
/// </summary>
/// <remarks>
/// Setting an <see cref="AsyncLocal{T}"/> allocates a new <see cref="ExecutionContext"/> (about 100 B) every time. A flow
/// that carries no other async-local value (a background worker, a console app, a queue consumer) always starts from the
/// runtime's default context, and "default + marked" is then always the same immutable context: it is captured once and
/// restored, which allocates nothing. A flow that carries other values (an ASP.NET Core request) still sets the value.
/// </remarks>
internal static class UnitScope
{
    private static readonly AsyncLocal<bool> Active = new();

    /// <summary>The runtime's default (empty) context, captured on a thread-pool item that runs without flow.</summary>
    private static ExecutionContext? s_default;

    /// <summary>The default context with <see cref="Active"/> set; immutable, so one instance serves every flow.</summary>
    private static ExecutionContext? s_markedDefault;

    private static int s_captureQueued;

    /// <summary>Whether the current flow is inside a unit of work.</summary>
    public static bool IsActive => Active.Value;

    /// <summary>
    /// Marks the current flow; returns true for the outermost unit. Call it from the unit's async method: the mark is undone
    /// when that method returns (an async method restores its caller's execution context).
    /// </summary>
    public static bool Enter()
    {
        if (Active.Value)
        {
            return false;
        }

        ExecutionContext? marked = Volatile.Read(ref s_markedDefault);
        if (marked is not null && ReferenceEquals(ExecutionContext.Capture(), s_default))
        {
            ExecutionContext.Restore(marked);
            return true;
        }

        Active.Value = true;
        if (marked is null && Interlocked.Exchange(ref s_captureQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static _ => CaptureDefault(), null);
        }

        return true;
    }

    /// <summary>Runs on a thread-pool item queued without flow, i.e. on the default context (which the pool restores afterwards).</summary>
    private static void CaptureDefault()
    {
        ExecutionContext? empty = ExecutionContext.Capture();
        if (empty is null || Active.Value)
        {
            return;
        }

        Active.Value = true;
        ExecutionContext? marked = ExecutionContext.Capture();
        Active.Value = false;
        if (marked is not null)
        {
            s_default = empty;
            Volatile.Write(ref s_markedDefault, marked);
        }
    }
}
