namespace DbCore.Generators.Diagnostics;

/// <summary>The IDs of DbCore's diagnostics.</summary>
internal static class DiagnosticIds
{
    public const string NotPartial = "DBC0001";
    public const string MissingConnectionString = "DBC0002";
    public const string MultipleConnectionStrings = "DBC0003";
    public const string InvalidConnectionStringProperty = "DBC0004";
    public const string InvalidPoolProfile = "DBC0005";
    public const string DuplicatePoolProfile = "DBC0006";
    public const string InvalidConnectionStringLiteral = "DBC0007";
    public const string ProviderMismatch = "DBC0008";
    public const string PasswordInSource = "DBC0009";
    public const string NameCollision = "DBC0010";
    public const string UnsupportedShape = "DBC0011";
    public const string PlaceholderWithoutParameter = "DBC0101";
    public const string UnusedQueryParameter = "DBC0102";
    public const string SqlNotConstant = "DBC0103";
    public const string UnsupportedQueryType = "DBC0104";
    public const string RequiredMemberNotSelected = "DBC0105";
    public const string ColumnWithoutMember = "DBC0106";
    public const string SelectStar = "DBC0107";
    public const string QueryMethodNotPartial = "DBC0108";
    public const string QueryOutsideSession = "DBC0109";
    public const string UnsupportedQueryParameter = "DBC0110";
    public const string PositionalPlaceholder = "DBC0116";
    public const string RowsAffectedOfQuery = "DBC0111";
    public const string QueryNotInSnapshot = "DBC0112";
    public const string QueryNotInRequiredSnapshot = "DBC0113";
    public const string QueryContradictsSnapshot = "DBC0114";
    public const string UnreadableQuerySnapshot = "DBC0115";
}
