using System;

namespace DbCore.Infrastructure;

// Shared source: public in DbCore.Runtime (the generated query catalogs build it), internal in DbCore.Generators (the
// analyzer's snapshot check describes the method with it), so the shape check (QueryShared.ShapeCheck.cs) takes one type.
// Keep it netstandard2.0 C#.

/// <summary>A parameter, a member of a row type, or a scalar result, as the generator saw it.</summary>
#if DBCORE_RUNTIME
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public
#else
internal
#endif
sealed class QueryValueDescriptor
{
    /// <summary>Creates the descriptor.</summary>
    /// <param name="name">The member name, the placeholder (without <c>@</c>), or "the result" for a scalar.</param>
    /// <param name="clrType">The fully qualified C# type without its nullable annotation, e.g. <c>long</c>, <c>global::System.Guid</c>, <c>long[]</c>.</param>
    /// <param name="enumUnderlying">For an enum, or a collection of enums, the enum's underlying type (read and bound as that); else <see langword="null"/>.</param>
    /// <param name="isNullable">Whether NULL may go here.</param>
    /// <param name="isCollection">An array or list bound to or read from a PostgreSQL array.</param>
    /// <param name="isRequired">Whether a column must map to it (constructor, required or init-only member, tuple element, scalar).</param>
    public QueryValueDescriptor(string name, string clrType, string? enumUnderlying, bool isNullable, bool isCollection, bool isRequired)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        ClrType = clrType ?? throw new ArgumentNullException(nameof(clrType));
        EnumUnderlying = enumUnderlying;
        IsNullable = isNullable;
        IsCollection = isCollection;
        IsRequired = isRequired;
    }

    /// <summary>The member name, placeholder, or "the result".</summary>
    public string Name { get; }

    /// <summary>The fully qualified C# type, without nullable annotation.</summary>
    public string ClrType { get; }

    /// <summary>The underlying type of an enum (or of a collection's enum elements), else <see langword="null"/>.</summary>
    public string? EnumUnderlying { get; }

    /// <summary>Whether NULL may go here.</summary>
    public bool IsNullable { get; }

    /// <summary>An array or list.</summary>
    public bool IsCollection { get; }

    /// <summary>Whether a column must map to it.</summary>
    public bool IsRequired { get; }
}
