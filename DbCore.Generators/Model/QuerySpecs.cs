namespace DbCore.Generators.Model;

/// <summary>What a query method returns (DESIGN §7 shapes).</summary>
internal enum ResultShape
{
    /// <summary><c>Task</c>: the statement runs, nothing is read.</summary>
    None,

    /// <summary><c>Task&lt;int&gt;</c>: rows affected.</summary>
    RowsAffected,

    /// <summary><c>Task&lt;T&gt;</c>: exactly one row.</summary>
    Single,

    /// <summary><c>Task&lt;T?&gt;</c>: zero or one row.</summary>
    SingleOrDefault,

    /// <summary><c>Task&lt;List&lt;T&gt;&gt;</c> or <c>Task&lt;IReadOnlyList&lt;T&gt;&gt;</c>: all rows.</summary>
    List,

    /// <summary><c>Task&lt;T[]&gt;</c>: all rows.</summary>
    Array,

    /// <summary><c>IAsyncEnumerable&lt;T&gt;</c>: rows streamed.</summary>
    Stream,
}

/// <summary>How a value is read from a column or bound to a parameter.</summary>
/// <param name="TypeName">The fully qualified non-nullable type, e.g. <c>long</c>, <c>string</c>, <c>global::System.Guid</c>.</param>
/// <param name="ReaderMethod">The typed getter (<c>GetInt64</c>), or <see langword="null"/> for <c>GetFieldValue&lt;T&gt;</c>.</param>
/// <param name="EnumUnderlying">For an enum, its underlying type (read and bound as that); else <see langword="null"/>.</param>
/// <param name="IsValueType">Whether the type is a value type (its nullable form is <c>T?</c> = <c>Nullable&lt;T&gt;</c>).</param>
/// <param name="IsNullable">Whether NULL may go here (a <c>T?</c>, or a reference type without a non-null annotation).</param>
/// <param name="IsCollection">An array or list (PostgreSQL arrays only).</param>
/// <param name="Element">For a collection, how its elements are read or bound (an array of enums is sent as an array of their
/// underlying type); else <see langword="null"/>.</param>
internal sealed record ValueSpec(string TypeName, string? ReaderMethod, string? EnumUnderlying, bool IsValueType, bool IsNullable, bool IsCollection, ValueSpec? Element = null);

/// <summary>One member of a row type a column maps to.</summary>
/// <param name="Name">The C# name (columns match it case- and underscore-insensitively).</param>
/// <param name="Value">Its type.</param>
/// <param name="Binding">How it is set: constructor argument, initializer (required or init-only) or assignment (optional).</param>
/// <param name="DefaultValue">
/// For a constructor parameter with a default value, that value as a C# expression of the parameter's type (passed when the
/// result has no column of its name, which makes the parameter optional); else <see langword="null"/>.
/// </param>
internal sealed record MemberSpec(string Name, ValueSpec Value, MemberBinding Binding, string? DefaultValue = null)
{
    /// <summary>Whether the result may lack a column for it: a settable member, or a constructor parameter with a default.</summary>
    public bool IsOptional => Binding == MemberBinding.Assignment || DefaultValue is not null;
}

/// <summary>How a mapped member receives its value.</summary>
internal enum MemberBinding
{
    /// <summary>A constructor parameter: required, unless it has a default value (<see cref="MemberSpec.DefaultValue"/>).</summary>
    Constructor,

    /// <summary>A required or init-only member, in the object initializer: required.</summary>
    Initializer,

    /// <summary>A settable member, assigned when a column maps to it: optional.</summary>
    Assignment,

    /// <summary>An element of a named tuple: required.</summary>
    TupleElement,
}

/// <summary>The row type of a query: a scalar (one column), or a record, class or named tuple (columns by name).</summary>
/// <param name="TypeName">The fully qualified type as written in the signature (with nullable annotation stripped).</param>
/// <param name="Scalar">For a scalar row, how the first column is read; else <see langword="null"/>.</param>
/// <param name="Members">The mapped members, in constructor order first.</param>
/// <param name="IsTuple">A named tuple (built with a tuple literal).</param>
/// <param name="StaticOrdinals">
/// When the select list can be read from the SQL, each member's column ordinal (-1: no column; only optional members), and
/// <paramref name="StaticColumnCount"/> the list's length; empty otherwise (the columns are then matched by name per call).
/// </param>
/// <param name="StaticColumnCount">The number of columns of a readable select list; 0 otherwise.</param>
internal sealed record RowSpec(string TypeName, ValueSpec? Scalar, EquatableArray<MemberSpec> Members, bool IsTuple, EquatableArray<int> StaticOrdinals = default, int StaticColumnCount = 0)
{
    /// <summary>The type of one row as a variable or list element: <c>T?</c> for a nullable scalar.</summary>
    public string VariableTypeName => Scalar is { IsNullable: true } && !TypeName.EndsWith("?", System.StringComparison.Ordinal) ? TypeName + "?" : TypeName;
}

/// <summary>One method parameter bound to a placeholder.</summary>
/// <param name="Name">The C# parameter name (escaped when it is a keyword).</param>
/// <param name="Placeholder">The placeholder as written in the SQL, without <c>@</c>.</param>
/// <param name="Value">Its type.</param>
internal sealed record QueryParameterSpec(string Name, string Placeholder, ValueSpec Value);

/// <summary>A parameter of the method's signature, as the implementing declaration must repeat it.</summary>
/// <param name="TypeName">Fully qualified, with nullable annotations and tuple names.</param>
/// <param name="Name">The name (escaped).</param>
/// <param name="IsCancellationToken">The method's <c>CancellationToken</c>.</param>
/// <param name="HasEnumeratorCancellation">The declaration already has <c>[EnumeratorCancellation]</c>.</param>
internal sealed record SignatureParameterSpec(string TypeName, string Name, bool IsCancellationToken, bool HasEnumeratorCancellation);

/// <summary>Everything the emitter needs for one <c>[Query]</c> method. Plain data: no symbols, nodes or locations.</summary>
internal sealed record QueryMethodSpec(
    string Namespace,
    string ClassName,
    string MethodName,
    string Accessibility,
    string ReturnTypeName,
    bool ReturnsValueTask,
    ResultShape Shape,
    RowSpec? Row,
    string Sql,
    string PositionalSql,
    EquatableArray<SignatureParameterSpec> Signature,
    EquatableArray<QueryParameterSpec> Parameters,
    string? CancellationTokenName,
    bool UsesPositional)
{
    /// <summary>The name used in errors: <c>Session.Method</c>.</summary>
    public string DisplayName => ClassName + "." + MethodName;
}

/// <summary>What a throwing stub for an invalid partial query method needs, so the error is the DBC01xx diagnostic alone.</summary>
internal sealed record QueryStubSpec(
    string Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string TypeKeyword,
    string ClassName,
    string MethodName,
    string Modifiers,
    string ReturnTypeName,
    EquatableArray<SignatureParameterSpec> Signature,
    bool ReturnsVoid,
    string TypeParameters,
    EquatableArray<string> Constraints,
    string ClassTypeParameters);

/// <summary>The generator's view of one <c>[Query]</c> method: a spec to implement, or a stub when it is invalid.</summary>
internal sealed record QueryOutput(QueryMethodSpec? Method, QueryStubSpec? Stub);

/// <summary>A generated session: where it lives, which provider it is pinned to, and the accessor that creates it.</summary>
internal sealed record SessionTarget(string Namespace, string SessionName, ProviderKind Provider, string AccessorName);

/// <summary>
/// What <c>{Accessor}.QueryCatalog.g.cs</c> needs: the accessor, its session's provider and every valid <c>[Query]</c> method of
/// the session (ordered by display name, then SQL), so <c>VerifyQueriesAsync</c> can describe them against the database.
/// </summary>
internal sealed record QueryCatalogSpec(string Namespace, string AccessorName, string SessionName, ProviderKind Provider, EquatableArray<QueryMethodSpec> Queries);

/// <summary>A valid query method matched with the session it belongs to.</summary>
internal sealed record BoundQuery(QueryMethodSpec? Method, ProviderKind Provider, QueryStubSpec? Stub);
