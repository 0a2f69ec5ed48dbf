namespace DbCore;

/// <summary>The defaults of the pool settings, shared by the attributes, the generator and the runtime.</summary>
public static class PoolDefaults
{
    /// <summary>Production pool size, the seed's default.</summary>
    public const int Size = 10;

    /// <summary>Production overflow, the seed's default.</summary>
    public const int MaxOverflow = 20;

    /// <summary>Seconds a caller waits for a connection.</summary>
    public const int AcquireTimeoutSeconds = 30;

    /// <summary>Seconds before a connection is replaced.</summary>
    public const int RecycleSeconds = 3600;

    /// <summary>Seconds an idle connection above the pool size stays open.</summary>
    public const int IdleSeconds = 300;
}
