"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { Point } from "@/lib/geo";
import { PLACES } from "@/lib/places";

export interface ShopperLocation extends Point {
  label: string;
  source: "device" | "chosen";
}

const [DEFAULT_PLACE] = PLACES;

/**
 * Where to look for deals: the browser's position when the shopper allows it, otherwise a
 * place they pick or coordinates they type (starting from the demo city's centre).
 */
export function useShopperLocation() {
  const [location, setLocation] = useState<ShopperLocation>({
    lat: DEFAULT_PLACE?.lat ?? 0,
    lng: DEFAULT_PLACE?.lng ?? 0,
    label: DEFAULT_PLACE?.name ?? "",
    source: "chosen",
  });
  const [problem, setProblem] = useState<string | null>(null);
  // A place the shopper picked is not overridden by a position that arrives later.
  const picked = useRef(false);

  const choose = useCallback((chosen: ShopperLocation) => {
    picked.current = true;
    setLocation(chosen);
  }, []);

  const locate = useCallback((asked = true) => {
    if (asked) picked.current = false;
    if (!("geolocation" in navigator)) {
      setProblem("This browser cannot share its location: pick a place instead.");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        if (picked.current) return;
        setProblem(null);
        setLocation({
          lat: position.coords.latitude,
          lng: position.coords.longitude,
          label: "your location",
          source: "device",
        });
      },
      () => setProblem("Location not shared: showing deals near a place you pick."),
      { timeout: 10_000, maximumAge: 60_000 },
    );
  }, []);

  useEffect(() => locate(false), [locate]);

  return { location, setLocation: choose, locate: () => locate(true), problem };
}
