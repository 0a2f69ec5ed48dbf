using System;

namespace DbCore;

/// <summary>
/// Marks a partial method of a generated session (<c>{Name}Session</c>) whose body DbCore generates from <paramref name="sql"/>:
/// parameters bind to <c>@name</c> placeholders, rows map to the return type by column name. See docs/queries.md.
/// </summary>
/// <param name="sql">The statement: a string literal or a constant, never built from pieces (interpolation or concatenation).</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class QueryAttribute(string sql) : Attribute
{
    /// <summary>The SQL of the query, as written.</summary>
    public string Sql { get; } = sql;
}
