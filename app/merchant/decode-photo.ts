/**
 * Reads the QR code in a photo. html5-qrcode (ZXing) first, as the product owner chose; it
 * misses some sharp, synthetic codes (seen: "No MultiFormat Readers were able to detect the
 * code" on a clean 488 px screenshot that jsQR reads), so jsQR gets a second look before
 * the device says there is no code.
 */
export async function decodeQrPhoto(file: File, elementId: string): Promise<string | null> {
  const { Html5Qrcode, Html5QrcodeSupportedFormats } = await import("html5-qrcode");
  const scanner = new Html5Qrcode(elementId, {
    verbose: false,
    formatsToSupport: [Html5QrcodeSupportedFormats.QR_CODE],
  });
  try {
    return await scanner.scanFile(file, false);
  } catch {
    return decodeWithJsQr(file);
  }
}

async function decodeWithJsQr(file: File): Promise<string | null> {
  const { default: jsQR } = await import("jsqr");
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext("2d");
  if (!context) return null;
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return jsQR(pixels.data, pixels.width, pixels.height)?.data ?? null;
}
