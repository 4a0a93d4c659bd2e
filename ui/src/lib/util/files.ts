/** The image types the composer takes (the `accept` of its file picker). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

/** Whether a dropped, pasted or picked file looks like an image the core can take in. */
export function isAcceptedImage(file: File): boolean {
  // Some sources leave the type empty; the core sniffs the bytes and says no if it must.
  return file.type === "" || (IMAGE_TYPES as readonly string[]).includes(file.type);
}

/** A file's bytes as plain base64 (no `data:` prefix). */
export function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = typeof reader.result === "string" ? reader.result : "";
      const comma = url.indexOf(",");
      resolve(comma >= 0 ? url.slice(comma + 1) : "");
    };
    reader.onerror = () => reject(reader.error ?? new Error("could not read the file"));
    reader.readAsDataURL(file);
  });
}

/** Files of a drag and drop or a paste (clipboard items that are files). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  if (data.files && data.files.length > 0) return [...data.files];
  const files: File[] = [];
  for (const item of data.items ?? []) {
    if (item.kind !== "file") continue;
    const file = item.getAsFile();
    if (file) files.push(file);
  }
  return files;
}

/** Whether a drag carries files (as opposed to text or a link). */
export function dragHasFiles(event: DragEvent): boolean {
  const types = event.dataTransfer?.types;
  return !!types && [...types].includes("Files");
}
