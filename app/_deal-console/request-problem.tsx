import Link from "next/link";
import { type ApiError, readApiError } from "@/lib/wire/read-api-error";

function headingOf(error: ApiError) {
  if (error.domainCode === "NOT_YOURS") return "Not your deal";
  switch (error.code) {
    case "UNAUTHORIZED":
      return "Sign in first";
    case "FORBIDDEN":
      return "Not for this account";
    case "NOT_FOUND":
      return "Not found";
    default:
      return "Something went wrong";
  }
}

/** Why a console page cannot show what was asked, and where to go instead. */
export function RequestProblem({
  error,
  back,
}: {
  error: unknown;
  back?: { href: string; label: string };
}) {
  const read = readApiError(error);
  const signIn = read.code === "UNAUTHORIZED" || (read.code === "FORBIDDEN" && !read.domainCode);
  return (
    <div className="card console-problem" role="alert">
      <h2>{headingOf(read)}</h2>
      <p>{read.message}</p>
      <p>
        {signIn ? (
          <Link href="/sign-in">Sign in as an admin or merchant staff</Link>
        ) : back ? (
          <Link href={back.href}>{back.label}</Link>
        ) : null}
      </p>
    </div>
  );
}
