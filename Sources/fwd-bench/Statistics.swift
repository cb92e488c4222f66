/// Returns the `fraction` percentile of `values` by the nearest-rank method, e.g. 0.99 of 200
/// values is the 198th smallest; nan when `values` is empty.
func percentile(_ values: [Double], _ fraction: Double) -> Double {
  guard !values.isEmpty else { return .nan }
  let sorted = values.sorted()
  let rank = Int((fraction * Double(sorted.count)).rounded(.up))
  return sorted[min(max(rank, 1), sorted.count) - 1]
}

/// The median and range of one figure over the rounds.
struct Summary {
  let median: Double
  let minimum: Double
  let maximum: Double
  let count: Int

  /// Returns nil when `values` is empty.
  init?(_ values: [Double]) {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    median =
      sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    minimum = sorted[0]
    maximum = sorted[sorted.count - 1]
    count = sorted.count
  }
}
