"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import "./deal-console.css";

/** A row of section links; the current section is marked for screen readers too. */
export function ConsoleNav({
  label,
  links,
}: {
  label: string;
  links: { href: string; label: string; exact?: boolean }[];
}) {
  const pathname = usePathname();
  return (
    <nav aria-label={label} className="console-nav">
      {links.map((link) => {
        const current = link.exact
          ? pathname === link.href
          : pathname === link.href || pathname.startsWith(`${link.href}/`);
        return (
          <Link
            key={link.href}
            href={link.href}
            className="console-nav-link"
            aria-current={current ? "page" : undefined}
          >
            {link.label}
          </Link>
        );
      })}
    </nav>
  );
}
