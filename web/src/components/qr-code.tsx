import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

/**
 * A ticket code as a QR image: error correction M, a 4-module quiet zone (the standard's minimum) and large
 * pixels, so a phone reads it off a screen. A data: URL image is allowed by the CSP (img-src data:).
 */
export function QrCode({ value, size = 240, label }: { value: string; size?: number; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(value, { errorCorrectionLevel: 'M', margin: 4, width: size * 2, color: { dark: '#000000', light: '#ffffff' } })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [value, size]);
  if (!src) return <div className="qr-placeholder" style={{ width: size, height: size }} aria-hidden="true" />;
  return <img className="qr" src={src} width={size} height={size} alt={label} />;
}
