using System;
using System.Diagnostics.CodeAnalysis;

namespace DbCore.Internal;

/// <summary>Cold throw paths, kept out of hot methods.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSessionCompleted(bool committed)
        => throw new InvalidOperationException(committed
            ? "The session was already committed. A session is one unit of work: open a new session for more work."
            : "The session was already rolled back. A session is one unit of work: open a new session for more work.");

    [DoesNotReturn]
    public static void ThrowSessionDisposed()
        => throw new ObjectDisposedException("DbSession", "The session was disposed. Open a new session for more work.");
}
