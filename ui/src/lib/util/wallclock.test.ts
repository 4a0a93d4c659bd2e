import { describe, expect, it } from "vitest";
import {
  addDays,
  addMonths,
  formatWallClock,
  isDay,
  monthGrid,
  normalizeTime,
  queryRange,
  splitWallClock,
  todayIn,
  wallClockAt,
  weekday,
  weekDays,
} from "./wallclock";

describe("wall clock", () => {
  it("does calendar arithmetic on dates, across month, year and DST boundaries", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2027-03-28", 1)).toBe("2027-03-29");
    expect(addMonths("2027-01-31", 1)).toBe("2027-02-28");
    expect(addMonths("2026-12-15", -12)).toBe("2025-12-15");
    expect(weekday("2026-12-07")).toBe(0); // Monday
    expect(weekday("2026-12-13")).toBe(6); // Sunday
    expect(weekDays("2026-12-09")).toEqual(["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13"]);
    const grid = monthGrid("2026-03-15");
    expect([grid[0], grid[41], grid.length]).toEqual(["2026-02-23", "2026-04-05", 42]);
  });

  it("asks for a day more on each side of the shown days", () => {
    expect(queryRange("2026-11-30", "2027-01-10")).toEqual({ from: "2026-11-29T00:00:00.000Z", to: "2027-01-12T00:00:00.000Z" });
  });

  it("reads and checks wall clocks", () => {
    expect(splitWallClock("2026-12-09 9:05")).toEqual({ day: "2026-12-09", time: "09:05" });
    expect(splitWallClock("2026-02-30 09:00")).toBeNull();
    expect(splitWallClock("2026-12-09 24:00")).toBeNull();
    expect(isDay("2026-02-29")).toBe(false);
    expect(isDay("2028-02-29")).toBe(true);
    expect(normalizeTime("7:5")).toBeNull();
  });

  it("tells the wall clock of another zone", () => {
    const at = new Date("2026-12-09T19:30:00Z");
    expect(wallClockAt("Pacific/Auckland", at)).toBe("2026-12-10 08:30");
    expect(wallClockAt("America/New_York", at)).toBe("2026-12-09 14:30");
    expect(todayIn("Pacific/Auckland", at)).toBe("2026-12-10");
  });

  it("formats a wall clock as it is, whatever zone the computer is in", () => {
    expect(formatWallClock("2027-03-28 02:30", "en")).toBe("Sunday, March 28, 2027 at 2:30 AM");
    expect(formatWallClock("2027-03-28 02:30", "de")).toBe("Sonntag, 28. März 2027 um 02:30");
  });
});
