using Microsoft.EntityFrameworkCore;

namespace DbCore.Tests.EntityFramework;

/// <summary>An ordinary application context, with the constructor every EF Core context has.</summary>
public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Counter> Counters => Set<Counter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("orders");
            order.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
        });
        modelBuilder.Entity<Counter>(counter =>
        {
            counter.ToTable("counters");
            counter.Property(c => c.Id).HasColumnName("id").ValueGeneratedNever();
            counter.Property(c => c.Value).HasColumnName("value");
        });
    }
}

public sealed class Order
{
    public int Id { get; set; }
}

public sealed class Counter
{
    public int Id { get; set; }

    public int Value { get; set; }
}
