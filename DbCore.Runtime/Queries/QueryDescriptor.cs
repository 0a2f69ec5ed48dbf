using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace DbCore.Infrastructure;

/// <summary>What a query method returns, as <see cref="QueryVerifier"/> checks it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum QueryShape
{
    /// <summary><c>Task</c>: nothing is read.</summary>
    None = 0,

    /// <summary><c>Task&lt;int&gt;</c>: rows affected; no column is read.</summary>
    RowsAffected = 1,

    /// <summary>Exactly one row.</summary>
    Single = 2,

    /// <summary>Zero or one row.</summary>
    SingleOrDefault = 3,

    /// <summary>All rows (list, array or stream).</summary>
    Many = 4,
}

/// <summary>
/// One <c>[Query]</c> method as the generator saw it, for <see cref="QueryVerifier"/>. Written by generated code
/// (<c>{Accessor}.QueryCatalog.g.cs</c>); not meant to be built by hand, its shape may change with the generator.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class QueryDescriptor
{
    /// <summary>Creates the descriptor.</summary>
    /// <param name="method">The display name, <c>Session.Method</c>.</param>
    /// <param name="sql">The SQL as the method executes it for the session's provider.</param>
    /// <param name="positionalSql">The SQL with <c>$1..$n</c> for the placeholders (PostgreSQL verification).</param>
    /// <param name="singleStatement">Whether the SQL is one statement (only then is <paramref name="positionalSql"/> positional).</param>
    /// <param name="shape">What the method returns.</param>
    /// <param name="parameters">The bound parameters, in the order of <c>$1..$n</c>; the name is the placeholder without <c>@</c>.</param>
    /// <param name="scalar">For a scalar result, the type the first column is read as; else <see langword="null"/>.</param>
    /// <param name="members">For a row type, its mapped members; else empty.</param>
    public QueryDescriptor(string method, string sql, string positionalSql, bool singleStatement, QueryShape shape, IReadOnlyList<QueryValueDescriptor> parameters, QueryValueDescriptor? scalar, IReadOnlyList<QueryValueDescriptor> members)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(positionalSql);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(members);
        Method = method;
        Sql = sql;
        PositionalSql = positionalSql;
        SingleStatement = singleStatement;
        Shape = shape;
        Parameters = parameters;
        Scalar = scalar;
        Members = members;
    }

    /// <summary>The display name, <c>Session.Method</c>.</summary>
    public string Method { get; }

    /// <summary>The SQL as executed for the session's provider.</summary>
    public string Sql { get; }

    /// <summary>The SQL with positional parameters.</summary>
    public string PositionalSql { get; }

    /// <summary>Whether the SQL is one statement.</summary>
    public bool SingleStatement { get; }

    /// <summary>What the method returns.</summary>
    public QueryShape Shape { get; }

    /// <summary>The bound parameters, in positional order.</summary>
    public IReadOnlyList<QueryValueDescriptor> Parameters { get; }

    /// <summary>The scalar read from the first column, if the result is a scalar.</summary>
    public QueryValueDescriptor? Scalar { get; }

    /// <summary>The members of the row type, if the result is a row type.</summary>
    public IReadOnlyList<QueryValueDescriptor> Members { get; }
}
