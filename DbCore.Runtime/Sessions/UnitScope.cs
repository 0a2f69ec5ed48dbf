using System.Threading;

namespace DbCore;

/// <summary>
/// Marks the async flow of a running unit of work. A unit nested inside another (of any accessor) runs once and leaves
/// retrying to the outermost unit, so attempts never multiply; and once a nested unit has committed, the outer unit is
/// never run again (that would commit the nested work twice).
/// </summary>
internal static class UnitScope
{
    private static readonly AsyncLocal<Frame?> Current = new();

    /// <summary>Whether the current flow is inside a unit of work.</summary>
    public static bool IsActive => Current.Value is not null;

    /// <summary>
    /// Marks the current flow and returns the outermost unit's frame, or null for a nested unit. Call it from the unit's
    /// async method: the mark is undone when that method returns (an async method restores its caller's context).
    /// </summary>
    public static Frame? Enter()
    {
        if (Current.Value is not null)
        {
            return null;
        }

        var frame = new Frame();
        Current.Value = frame;
        return frame;
    }

    /// <summary>A nested unit committed: tells the outermost unit it must not run again.</summary>
    public static void NestedUnitCommitted()
    {
        if (Current.Value is { } frame)
        {
            frame.NestedCommitted = true;
        }
    }

    /// <summary>The state of one outermost unit of work, shared with the units nested in it.</summary>
    internal sealed class Frame
    {
        public volatile bool NestedCommitted;
    }
}
