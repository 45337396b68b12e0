import Link from "next/link";

/** The line above a page's title that leads back to the list it was opened from. */
export function BackLink({
  href,
  children,
  className = "muted",
}: {
  href: string;
  children: string;
  className?: string;
}) {
  return (
    <p className={className}>
      <Link href={href}>← {children}</Link>
    </p>
  );
}
