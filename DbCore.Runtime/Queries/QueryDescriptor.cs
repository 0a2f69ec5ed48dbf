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

/// <summary>A parameter, a member of a row type, or a scalar result, as the generator saw it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class QueryValueDescriptor
{
    /// <summary>Creates the descriptor.</summary>
    /// <param name="name">The member name, the placeholder (without <c>@</c>), or "the result" for a scalar.</param>
    /// <param name="clrType">The fully qualified C# type without its nullable annotation, e.g. <c>long</c>, <c>global::System.Guid</c>, <c>long[]</c>.</param>
    /// <param name="enumUnderlying">For an enum, its underlying type (read and bound as that); else <see langword="null"/>.</param>
    /// <param name="isNullable">Whether NULL may go here.</param>
    /// <param name="isCollection">An array or list bound to or read from a PostgreSQL array.</param>
    /// <param name="isRequired">Whether a column must map to it (constructor, required or init-only member, tuple element, scalar).</param>
    public QueryValueDescriptor(string name, string clrType, string? enumUnderlying, bool isNullable, bool isCollection, bool isRequired)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(clrType);
        Name = name;
        ClrType = clrType;
        EnumUnderlying = enumUnderlying;
        IsNullable = isNullable;
        IsCollection = isCollection;
        IsRequired = isRequired;
    }

    /// <summary>The member name, placeholder, or "the result".</summary>
    public string Name { get; }

    /// <summary>The fully qualified C# type, without nullable annotation.</summary>
    public string ClrType { get; }

    /// <summary>The underlying type of an enum, else <see langword="null"/>.</summary>
    public string? EnumUnderlying { get; }

    /// <summary>Whether NULL may go here.</summary>
    public bool IsNullable { get; }

    /// <summary>An array or list.</summary>
    public bool IsCollection { get; }

    /// <summary>Whether a column must map to it.</summary>
    public bool IsRequired { get; }
}
