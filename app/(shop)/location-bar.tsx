"use client";

import { type FormEvent, useState } from "react";
import { PLACES } from "@/lib/places";
import type { ShopperLocation } from "./use-shopper-location";

export const RADII_KM = [1, 2, 5, 10, 25] as const;

/** Where the shopper is looking and how far: their location, a place, or typed coordinates. */
export function LocationBar(props: {
  location: ShopperLocation;
  onChange: (location: ShopperLocation) => void;
  onLocate: () => void;
  radiusKm: number;
  onRadius: (km: number) => void;
  problem: string | null;
}) {
  const [typedError, setTypedError] = useState<string | null>(null);
  // On a phone the controls fold away behind "Change", so the deals fill the first screen.
  const [open, setOpen] = useState(false);

  function applyTyped(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget).get("coordinates") ?? "");
    const match = /^\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
    const lat = Number(match?.[1]);
    const lng = Number(match?.[2]);
    if (!match || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
      setTypedError("Type latitude and longitude, for example 52.3731, 4.8922.");
      return;
    }
    setTypedError(null);
    props.onChange({ lat, lng, label: `${lat.toFixed(4)}, ${lng.toFixed(4)}`, source: "chosen" });
  }

  return (
    <section className="location-bar" aria-label="Where to look" data-open={open || undefined}>
      <div className="location-summary">
        <p className="location-now" data-testid="location-label">
          Deals within {props.radiusKm} km of <strong>{props.location.label}</strong>
        </p>
        <button
          type="button"
          className="link-button location-toggle"
          aria-expanded={open}
          aria-controls="location-controls"
          onClick={() => setOpen(!open)}
        >
          {open ? "Done" : "Change"}
        </button>
      </div>
      <div className="location-controls" id="location-controls">
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={props.onLocate}
        >
          Use my location
        </button>
        <label>
          <span className="visually-hidden">Pick a place</span>
          <select
            aria-label="Pick a place"
            value={
              PLACES.find((p) => p.lat === props.location.lat && p.lng === props.location.lng)
                ?.name ?? ""
            }
            onChange={(event) => {
              const place = PLACES.find((p) => p.name === event.currentTarget.value);
              if (place) props.onChange({ ...place, label: place.name, source: "chosen" });
            }}
          >
            <option value="" disabled>
              Pick a place…
            </option>
            {PLACES.map((place) => (
              <option key={place.name} value={place.name}>
                {place.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="visually-hidden">Distance</span>
          <select
            aria-label="Distance"
            value={props.radiusKm}
            onChange={(event) => props.onRadius(Number(event.currentTarget.value))}
          >
            {RADII_KM.map((km) => (
              <option key={km} value={km}>
                within {km} km
              </option>
            ))}
          </select>
        </label>
        <form onSubmit={applyTyped} className="typed-location">
          <label>
            <span className="visually-hidden">Coordinates</span>
            <input name="coordinates" placeholder="or type lat, lng" aria-label="Coordinates" />
          </label>
          <button type="submit" className="button button-secondary button-small">
            Go
          </button>
        </form>
      </div>
      {(props.problem || typedError) && (
        <p className="muted" role="status">
          {typedError ?? props.problem}
        </p>
      )}
    </section>
  );
}
