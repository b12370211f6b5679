import assert from "node:assert/strict";
import { Exact } from "./exact.ts";
import {
  type CashFlow,
  moneyWeightedReturn,
  timeWeightedReturn,
  type ValuePoint,
  xirr,
} from "./returns.ts";

/** Daily closes (21:00 UTC) from [day, value] pairs. */
const closes = (rows: [string, string][]): ValuePoint[] =>
  rows.map(([day, value]) => ({ time: `${day}T21:00:00Z`, value }));

Deno.test("xirr: Microsoft's XIRR example", () => {
  // Microsoft Support, "XIRR function" (Excel), example:
  // https://support.microsoft.com/en-us/office/xirr-function-de1242ec-6477-445b-b11b-a303ad9adc9d
  // =XIRR(values, dates) with these values and dates returns 0.373362535 (37.34 %).
  // Excel stops iterating once the rate is within 0.000001 %, so it agrees with the exact
  // root, 0.3733625335188315… (bisection to 50 digits), to 8 places; 10 places are exact here.
  const flows: CashFlow[] = [
    { day: "2008-01-01", amount: "-10000" },
    { day: "2008-03-01", amount: "2750" },
    { day: "2008-10-30", amount: "4250" },
    { day: "2009-02-15", amount: "3250" },
    { day: "2009-04-01", amount: "2750" },
  ];
  const r = xirr(flows);
  assert.ok(r);
  assert.ok(new Exact(r).minus("0.373362535").abs().lt("1e-8"), r);
  assert.equal(r, "0.3733625335");
  // Order does not matter: the earliest day is the base date.
  assert.equal(xirr([...flows].reverse()), r);
});

Deno.test("xirr: a plain year at 10 %", () => {
  assert.equal(
    xirr([{ day: "2023-01-01", amount: "-100" }, { day: "2024-01-01", amount: "110" }]),
    "0.1",
  );
});

Deno.test("xirr: no sign change, one day, nothing → null", () => {
  assert.equal(xirr([]), null);
  assert.equal(
    xirr([{ day: "2024-01-01", amount: "-5" }, { day: "2024-06-01", amount: "-7" }]),
    null,
  );
  assert.equal(
    xirr([{ day: "2024-01-01", amount: "5" }, { day: "2024-06-01", amount: "7" }]),
    null,
  );
  assert.equal(
    xirr([{ day: "2024-01-01", amount: "-5" }, { day: "2024-01-01", amount: "7" }]),
    null,
  );
  assert.equal(
    xirr([{ day: "2024-01-01", amount: "0" }, { day: "2024-06-01", amount: "7" }]),
    null,
  );
});

Deno.test("xirr: extreme rates", () => {
  // Lose 99.9 % in a year; gain 1,000 × in a year.
  assert.equal(
    xirr([{ day: "2023-01-01", amount: "-1000" }, { day: "2024-01-01", amount: "1" }]),
    "-0.999",
  );
  assert.equal(
    xirr([{ day: "2023-01-01", amount: "-1" }, { day: "2024-01-01", amount: "1000" }]),
    "999",
  );
});

Deno.test("xirr: where Newton from 10 % fails, bisection finds the root", () => {
  // 2,309 paid in over 18 months, 485 back at two years: Newton's steps from the 10 % guess
  // leave the searched range; the one root, −0.84760100132841… (bisection to 50 digits), is
  // bracketed and bisected instead.
  const flows = [
    { day: "2020-01-01", amount: "-48" },
    { day: "2020-07-01", amount: "-559" },
    { day: "2021-01-01", amount: "-887" },
    { day: "2021-07-01", amount: "-815" },
    { day: "2022-01-01", amount: "485" },
  ];
  assert.equal(xirr(flows), "-0.8476010013");
});

Deno.test("xirr: malformed days and amounts throw", () => {
  assert.throws(
    () => xirr([{ day: "2024-13-01", amount: "1" }, { day: "2024-01-01", amount: "-1" }]),
    RangeError,
  );
  assert.throws(
    () => xirr([{ day: "1/1/2024", amount: "1" }, { day: "2024-01-01", amount: "-1" }]),
    RangeError,
  );
  assert.throws(() =>
    xirr([{ day: "2024-01-01", amount: "x" }, { day: "2024-02-01", amount: "-1" }])
  );
});

Deno.test("timeWeightedReturn: CIBC Investor's Edge worked example (a deposit)", () => {
  // CIBC Investor's Edge, "Time-weighted vs. money-weighted rates of return":
  // https://investorsedge.cibc.com/en/learn/trading-with-investors-edge/time-weighted-vs-money-weighted-rates-of-return.html
  // $200,000 on January 1, $220,000 by August 30 (+10 %), $50,000 added on September 1,
  // $300,000 on December 31 (+11.11 % on $270,000): TWR = 1.10 × 1.1111 − 1 ≈ 22 %.
  // Exactly 1.1 × 300,000 ÷ 270,000 − 1 = 2/9. (The page gives no year; 2023 is assumed.)
  const points = closes([["2023-01-01", "200000"], ["2023-08-30", "220000"], [
    "2023-12-31",
    "300000",
  ]]);
  assert.equal(
    timeWeightedReturn(points, [{ day: "2023-09-01", amount: "50000" }]),
    "0.2222222222",
  );
});

Deno.test("timeWeightedReturn: mathcelebrity worked example (a deposit and a withdrawal)", () => {
  // MathCelebrity, "Time Weighted Rate of Interest": https://www.mathcelebrity.com/intweighttimeinst.htm
  // 100,000 on January 1; 112,000 on March 1, then a 30,000 contribution; 125,000 on
  // August 1, then 42,000 withdrawn; 100,000 on January 1 of the next year → 18.78 %.
  // (112/100) × (125,000/142,000) × (100,000/83,000) − 1 = 0.18784999151…
  // A flow "immediately after" a valuation is dated the next day: it counts at its day's start.
  const points = closes([
    ["2022-12-31", "100000"],
    ["2023-03-01", "112000"],
    ["2023-08-01", "125000"],
    ["2023-12-31", "100000"],
  ]);
  const flows = [{ day: "2023-03-02", amount: "30000" }, { day: "2023-08-02", amount: "-42000" }];
  assert.equal(timeWeightedReturn(points, flows), "0.1878499915");
});

Deno.test("a deposit before a rise: MWR above TWR, and the reverse", () => {
  // 1,000 halves to 500, then 1,000 is added and the 1,500 doubles to 3,000:
  // TWR = 0.5 × 2 − 1 = 0, but most of the money was in for the doubling, so MWR > 0.
  const points = closes([["2024-01-01", "1000"], ["2024-07-01", "500"], ["2024-12-31", "3000"]]);
  const flows = [{ day: "2024-07-02", amount: "1000" }];
  assert.equal(timeWeightedReturn(points, flows), "0");
  const mwr = moneyWeightedReturn("1000", "3000", points[0].time, points[2].time, flows);
  assert.ok(mwr.period && mwr.annualized);
  assert.ok(new Exact(mwr.period).gt(0.2), mwr.period);
  // The rate solves the money-weighted equation: 1,000 × g + 1,000 × g^(1 − τ) = 3,000.
  const tau = (Date.parse("2024-07-02T00:00:00Z") - Date.parse("2024-01-01T21:00:00Z")) /
    (Date.parse("2024-12-31T21:00:00Z") - Date.parse("2024-01-01T21:00:00Z"));
  const g = 1 + Number(mwr.period);
  assert.ok(Math.abs(1000 * g + 1000 * g ** (1 - tau) - 3000) < 1e-6);

  // Doubling first, then 1,000 added before a halving: TWR 0 again, MWR < 0.
  const down = closes([["2024-01-01", "1000"], ["2024-07-01", "2000"], ["2024-12-31", "1500"]]);
  assert.equal(timeWeightedReturn(down, flows), "0");
  const loss = moneyWeightedReturn("1000", "1500", down[0].time, down[2].time, flows);
  assert.ok(loss.period && new Exact(loss.period).lt(0), loss.period ?? "null");
});

Deno.test("no flows: TWR equals the period MWR", () => {
  const points = closes([
    ["2024-01-02", "10000"],
    ["2024-02-01", "10350.25"],
    ["2024-03-01", "9800.10"],
    ["2024-06-28", "11234.56"],
    ["2024-09-30", "10999.99"],
  ]);
  const twr = timeWeightedReturn(points, []);
  assert.equal(twr, "0.099999");
  const mwr = moneyWeightedReturn("10000", "10999.99", points[0].time, points[4].time, []);
  assert.ok(mwr.period);
  assert.equal(
    new Exact(mwr.period).toDecimalPlaces(8).toFixed(),
    new Exact(twr).toDecimalPlaces(8).toFixed(),
  );
  // annualized: (1.099999)^(365 / days) − 1 over 272 days.
  const days = (Date.parse("2024-09-30") - Date.parse("2024-01-02")) / 86_400_000;
  assert.ok(Math.abs(Number(mwr.annualized) - (1.099999 ** (365 / days) - 1)) < 1e-9);
});

Deno.test("timeWeightedReturn: too few points → null", () => {
  assert.equal(timeWeightedReturn([], []), null);
  assert.equal(
    timeWeightedReturn(closes([["2024-01-02", "100"]]), [{ day: "2024-01-03", amount: "5" }]),
    null,
  );
});

Deno.test("timeWeightedReturn: points are sorted; Date and string times both work", () => {
  const points: ValuePoint[] = [
    { time: new Date("2024-01-03T21:00:00Z"), value: "121" },
    { time: "2024-01-01T21:00:00Z", value: "100" },
    { time: "2024-01-02T21:00:00Z", value: "110" },
  ];
  assert.equal(timeWeightedReturn(points, []), "0.21");
});

Deno.test("timeWeightedReturn: which piece a flow belongs to", () => {
  // Midnight points: the point at D 00:00 UTC already holds the flow of day D.
  const points: ValuePoint[] = [
    { time: "2024-01-01T00:00:00Z", value: "100" },
    { time: "2024-01-02T00:00:00Z", value: "160" },
    { time: "2024-01-03T00:00:00Z", value: "176" },
  ];
  // 160 ÷ (100 + 50) × 176 ÷ 160 − 1
  assert.equal(timeWeightedReturn(points, [{ day: "2024-01-02", amount: "50" }]), "0.1733333333");
  // Flows on or before the first point's day start are in V_0; flows after the last are out.
  const outside = [{ day: "2023-12-31", amount: "1000" }, { day: "2024-01-01", amount: "7" }, {
    day: "2024-01-04",
    amount: "9",
  }];
  assert.equal(timeWeightedReturn(points, outside), "0.76");
  // Several flows in one piece add up.
  const split = [{ day: "2024-01-02", amount: "20" }, { day: "2024-01-02", amount: "30" }];
  assert.equal(timeWeightedReturn(points, split), "0.1733333333");
});

Deno.test("timeWeightedReturn: an empty account that is funded starts at its first value", () => {
  // Zero, zero, then a deposit of 1,000 that grows to 1,010 and then to 1,111.
  const funded = closes([["2024-01-01", "0"], ["2024-01-02", "0"], ["2024-01-03", "1010"], [
    "2024-01-04",
    "1111",
  ]]);
  assert.equal(timeWeightedReturn(funded, [{ day: "2024-01-03", amount: "1000" }]), "0.111");
  // Value out of nothing before any flow is known (an unexplained transfer): start there.
  const appeared = closes([["2024-01-01", "0"], ["2024-01-02", "500"], ["2024-01-03", "550"]]);
  assert.equal(timeWeightedReturn(appeared, []), "0.1");
  // Nothing ever invested.
  assert.equal(timeWeightedReturn(closes([["2024-01-01", "0"], ["2024-01-02", "0"]]), []), null);
  // Emptied and left empty for a while: those pieces are skipped.
  const emptied = closes([["2024-01-01", "100"], ["2024-01-02", "0"], ["2024-01-03", "0"], [
    "2024-01-04",
    "220",
  ]]);
  const flows = [{ day: "2024-01-02", amount: "-110" }, { day: "2024-01-04", amount: "200" }];
  // 0 ÷ (100 − 110) is a non-positive denominator: undefined.
  assert.equal(timeWeightedReturn(emptied, flows), null);
  // Everything taken out at the start of day 2 (nothing left invested), 200 put back on day 4:
  // the empty pieces are skipped and only 220 ÷ 200 counts.
  const closed = [{ day: "2024-01-02", amount: "-100" }, { day: "2024-01-04", amount: "200" }];
  assert.equal(timeWeightedReturn(emptied, closed), "0.1");
});

Deno.test("timeWeightedReturn: a withdrawal larger than the value → null", () => {
  const points = closes([["2024-01-01", "1000"], ["2024-01-02", "500"], ["2024-01-03", "550"]]);
  assert.equal(timeWeightedReturn(points, [{ day: "2024-01-02", amount: "-1200" }]), null);
  // Value out of nothing in the middle of the range: undefined too.
  const gap = closes([["2024-01-01", "100"], ["2024-01-02", "0"], ["2024-01-03", "50"]]);
  assert.equal(timeWeightedReturn(gap, [{ day: "2024-01-02", amount: "-100" }]), null);
});

Deno.test("moneyWeightedReturn: edge cases", () => {
  const a = "2024-01-01T21:00:00Z";
  const b = "2024-12-31T21:00:00Z";
  // An empty range.
  assert.deepEqual(moneyWeightedReturn("100", "110", b, a, []), { period: null, annualized: null });
  assert.deepEqual(moneyWeightedReturn("100", "110", a, a, []), { period: null, annualized: null });
  // Zero start value with a deposit: the deposit is the investment, 3 hours into the range,
  // so 1,000 × g^(1 − τ) = 1,100 with τ = 3 h ÷ the range.
  const funded = moneyWeightedReturn("0", "1100", a, b, [{ day: "2024-01-02", amount: "1000" }]);
  const tau = 3 * 3_600_000 / (Date.parse(b) - Date.parse(a));
  assert.ok(funded.period && Math.abs(Number(funded.period) - (1.1 ** (1 / (1 - tau)) - 1)) < 1e-9);
  // Only withdrawals from an empty start and nothing at the end: no rate.
  const drained = moneyWeightedReturn("0", "0", a, b, [
    { day: "2024-03-01", amount: "-10" },
    { day: "2024-06-01", amount: "-20" },
  ]);
  assert.deepEqual(drained, { period: null, annualized: null });
  // All flows negative for the investor (paid in, nothing back): no root.
  assert.deepEqual(moneyWeightedReturn("100", "0", a, b, [{ day: "2024-03-01", amount: "50" }]), {
    period: null,
    annualized: null,
  });
  // Flows outside the range are ignored.
  const outside = moneyWeightedReturn("100", "110", a, b, [
    { day: "2024-01-01", amount: "1000" },
    { day: "2025-01-01", amount: "1000" },
  ]);
  assert.equal(outside.period, "0.1");
});

Deno.test("moneyWeightedReturn: a short intraday range", () => {
  const r = moneyWeightedReturn("1000", "1001", "2024-03-05T14:30:00Z", "2024-03-05T21:00:00Z", []);
  assert.equal(r.period, "0.001");
  // 0.1 % in 6.5 hours compounds to 1.001^(365 × 24 ÷ 6.5) − 1 ≈ 285 % a year.
  assert.ok(
    r.annualized && Math.abs(Number(r.annualized) - (1.001 ** (365 * 24 / 6.5) - 1)) < 1e-9,
  );
  // So big a move in so short a time has no float annual rate; the period one stays.
  const huge = moneyWeightedReturn(
    "1",
    "1000000",
    "2024-03-05T14:30:00Z",
    "2024-03-05T14:31:00Z",
    [],
  );
  assert.equal(huge.annualized, null);
  assert.ok(Math.abs(Number(huge.period) - 999_999) < 1e-6, huge.period ?? "null");
});
