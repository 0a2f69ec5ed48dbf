using System;

namespace DbCore;

/// <summary>
/// A query method got a result its return type cannot hold: no row or more than one for a one-row method, a NULL for a
/// non-nullable member, a value its member's type cannot hold (the provider's error is the inner exception), or no column
/// for a required member. Names the method (and the column and member where there is one). Not transient: the same query
/// returns the same shape again.
/// </summary>
public sealed class QueryResultException : DbCoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="method">The query method.</param>
    /// <param name="column">The column, where one is concerned.</param>
    /// <param name="member">The member of the row type, where one is concerned.</param>
    /// <param name="innerException">The provider's error (a value it could not convert), if any.</param>
    public QueryResultException(string message, string method, string? column = null, string? member = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Method = method;
        Column = column;
        Member = member;
    }

    /// <summary>The query method, e.g. <c>TodoSession.FindTodoAsync</c>.</summary>
    public string Method { get; }

    /// <summary>The column concerned, if any.</summary>
    public string? Column { get; }

    /// <summary>The member of the row type concerned, if any.</summary>
    public string? Member { get; }
}
