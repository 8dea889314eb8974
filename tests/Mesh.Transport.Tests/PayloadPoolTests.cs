using Mesh.Transport.Framing;

namespace Mesh.Transport.Tests;

/// <summary>The pool of received payload arrays (<see cref="PayloadPool"/>).</summary>
public sealed class PayloadPoolTests
{
    [Theory]
    [InlineData(0, 64)]
    [InlineData(1, 64)]
    [InlineData(64, 64)]
    [InlineData(65, 128)]
    [InlineData(1000, 1024)]
    [InlineData(1024, 1024)]
    [InlineData(8192, 8192)]
    public void Rents_the_smallest_power_of_two_from_64_bytes_that_holds_the_length(int length, int expected)
    {
        byte[] array = PayloadPool.Rent(length);

        Assert.Equal(expected, array.Length);
        PayloadPool.Return(array);
    }

    [Fact]
    public void A_returned_array_is_handed_out_again()
    {
        // A size nothing else in the test run uses, so no other test takes it in between.
        byte[][] arrays = [.. Enumerable.Range(0, 4).Select(_ => PayloadPool.Rent(4000))];
        foreach (byte[] array in arrays)
        {
            PayloadPool.Return(array);
        }

        byte[][] again = [.. Enumerable.Range(0, 4).Select(_ => PayloadPool.Rent(4096))];

        Assert.All(again, array => Assert.Contains(array, arrays));
        foreach (byte[] array in again)
        {
            PayloadPool.Return(array);
        }
    }

    [Fact]
    public void Payloads_larger_than_8_KiB_come_from_the_shared_pool_and_go_back_to_it()
    {
        byte[] array = PayloadPool.Rent(PayloadPool.MaxPooledLength + 1);

        Assert.True(array.Length > PayloadPool.MaxPooledLength);
        PayloadPool.Return(array);
    }

    [Fact]
    public void The_idle_arrays_it_keeps_stay_within_its_bound()
    {
        int count = (int)(PayloadPool.MaxPooledBytes / PayloadPool.MaxPooledLength) + 100;
        byte[][] arrays = [.. Enumerable.Range(0, count).Select(_ => PayloadPool.Rent(PayloadPool.MaxPooledLength))];
        foreach (byte[] array in arrays)
        {
            PayloadPool.Return(array);
        }

        Assert.InRange(PayloadPool.PooledBytes, PayloadPool.MaxPooledLength, PayloadPool.MaxPooledBytes);

        // Leave the pool as small as it was, for the other tests.
        for (int i = 0; i < count; i++)
        {
            _ = PayloadPool.Rent(PayloadPool.MaxPooledLength);
        }
    }
}
