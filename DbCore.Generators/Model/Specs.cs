namespace DbCore.Generators.Model;

/// <summary>The provider as the generator sees it (mirrors DbCore.DatabaseProvider).</summary>
internal enum ProviderKind
{
    Auto = 0,
    PostgreSql = 1,
    Sqlite = 2,
}

/// <summary>The kind of a bindable property of the settings class.</summary>
internal enum PropertyKind
{
    String,
    Boolean,
    Int32,
    Int64,
    Double,
    TimeSpan,
    Enum,
}

/// <summary>A containing type of a nested settings class ("partial class Outer").</summary>
internal sealed record ContainingTypeSpec(string Keyword, string Name, string TypeParameters = "");

/// <summary>One <c>[PoolProfile]</c>.</summary>
internal sealed record PoolProfileSpec(
    string Environment,
    int Size,
    int MaxOverflow,
    int AcquireTimeoutSeconds,
    int RecycleSeconds,
    int IdleSeconds,
    bool WarmUp);

/// <summary>A user property bound from <c>{Section}:{Name}</c>.</summary>
internal sealed record BindablePropertySpec(string Name, PropertyKind Kind, string TypeName, bool IsNullable);

/// <summary>Everything the emitter needs for one settings class. Plain data only: no symbols, nodes or locations.</summary>
internal sealed record SettingsSpec(
    string Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string ClassName,
    string Accessibility,
    string BaseName,
    string SectionName,
    ProviderKind Provider,
    string ConnectionStringProperty,
    string? EnvironmentVariable,
    EquatableArray<PoolProfileSpec> Profiles,
    EquatableArray<BindablePropertySpec> Properties,
    bool HasUserToString)
{
    /// <summary>The fully qualified settings type, e.g. <c>global::App.DatabaseSettings</c>.</summary>
    public string SettingsTypeName
    {
        get
        {
            string prefix = Namespace.Length == 0 ? "global::" : "global::" + Namespace + ".";
            foreach (ContainingTypeSpec containing in ContainingTypes)
            {
                prefix += Identifier.Escape(containing.Name) + ".";
            }

            return prefix + Identifier.Escape(ClassName);
        }
    }

    public string AccessorName => BaseName;

    public string SessionName => BaseName + "Session";

    public string ExtensionsName => BaseName + "ServiceCollectionExtensions";
}
