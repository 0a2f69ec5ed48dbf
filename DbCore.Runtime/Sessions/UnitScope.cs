using System.Threading;

namespace DbCore;

/// <summary>
/// Marks the async flow of a running unit of work, so a unit nested inside another (of any accessor) runs once and leaves
/// retrying to the outermost unit: attempts never multiply.
/// </summary>
internal static class UnitScope
{
    private static readonly AsyncLocal<bool> Active = new();

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

        Active.Value = true;
        return true;
    }
}
