using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace DbCore;

/// <summary>
/// <c>VerifyQueriesAsync</c> found <c>[Query]</c> methods that do not match the connected database. <see cref="Mismatches"/>
/// lists every one (method, SQL, column, member, problem and fix); the message lists them too. Not transient.
/// </summary>
public sealed class QueryVerificationException : DbCoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="mismatches">Every mismatch found; at least one.</param>
    public QueryVerificationException(IReadOnlyList<QueryMismatch> mismatches)
        : base(Format(mismatches))
    {
        Mismatches = mismatches;
    }

    /// <summary>Every mismatch, in the order of the methods (by name) and of their columns.</summary>
    public IReadOnlyList<QueryMismatch> Mismatches { get; }

    private static string Format(IReadOnlyList<QueryMismatch> mismatches)
    {
        ArgumentNullException.ThrowIfNull(mismatches);
        var text = new StringBuilder();
        int methods = mismatches.Select(m => m.Method).Distinct(StringComparer.Ordinal).Count();
        text.Append(mismatches.Count == 1 ? "1 query mismatch" : mismatches.Count + " query mismatches")
            .Append(" in ").Append(methods == 1 ? "1 method" : methods + " methods").Append(':');
        foreach (QueryMismatch mismatch in mismatches)
        {
            text.Append('\n').Append("- ").Append(mismatch);
        }

        return text.ToString();
    }
}

/// <summary>One way a <c>[Query]</c> method does not match the database.</summary>
public sealed class QueryMismatch
{
    /// <summary>Creates the mismatch.</summary>
    /// <param name="method">The query method, <c>Session.Method</c>.</param>
    /// <param name="sql">The method's SQL.</param>
    /// <param name="column">The result column concerned (or the parameter, as <c>@name</c>), if any.</param>
    /// <param name="member">The member of the row type concerned ("the result" for a scalar), if any.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="fix">What to change.</param>
    public QueryMismatch(string method, string sql, string? column, string? member, string problem, string fix)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(fix);
        Method = method;
        Sql = sql;
        Column = column;
        Member = member;
        Problem = problem;
        Fix = fix;
    }

    /// <summary>The query method, <c>Session.Method</c>.</summary>
    public string Method { get; }

    /// <summary>The method's SQL.</summary>
    public string Sql { get; }

    /// <summary>The result column (or <c>@parameter</c>) concerned, if any.</summary>
    public string? Column { get; }

    /// <summary>The member concerned, if any.</summary>
    public string? Member { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }

    /// <summary>What to change.</summary>
    public string Fix { get; }

    /// <summary>One line: method, column and member, problem, fix, SQL.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Method);
        if (Column is not null)
        {
            text.Append(", column '").Append(Column).Append('\'');
        }

        if (Member is not null)
        {
            text.Append(", member '").Append(Member).Append('\'');
        }

        return text.Append(": ").Append(Problem).Append(" Fix: ").Append(Fix).Append(" SQL: ").Append(Sql).ToString();
    }
}
