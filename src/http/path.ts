/**
 * Ids that travel as one URL path segment (Carnival's `users/<id>`, User.com's `users-by-id/<id>/`).
 * Percent-encoding covers every character except the two dot segments: "." and ".." are resolved
 * away by every URL parser (ours, proxies', the vendor's), so the request would reach another
 * resource, and the vendor's answer there would be read as being about this user.
 */
export function pathSegmentProblem(id: string): string | undefined {
  return id === "." || id === ".." ? `"${id}" cannot be sent as a URL path segment: URL parsers resolve it away` : undefined;
}

/** The id as one encoded path segment. Adapters refuse a problem id first (typed); this is the last net. */
export function pathSegment(id: string): string {
  const problem = pathSegmentProblem(id);
  if (problem) throw new Error(problem);
  return encodeURIComponent(id);
}
