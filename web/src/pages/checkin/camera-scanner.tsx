import QrScanner from 'qr-scanner';
import { useEffect, useRef, useState } from 'react';
import { Notice } from '../../components/ui';

/**
 * The phone's camera reading ticket QR codes: the BarcodeDetector API where the browser has it, otherwise
 * qr-scanner's decoder in a Web Worker. Loaded only when the camera is switched on.
 */
export default function CameraScanner({ onCode }: { onCode: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const scanner = new QrScanner(element, (result) => onCodeRef.current(result.data), {
      returnDetailedScanResult: true,
      preferredCamera: 'environment',
      maxScansPerSecond: 10,
    });
    let stopped = false;
    scanner.start().then(
      () => !stopped && setRunning(true),
      (err: unknown) => !stopped && setProblem(`The camera could not start: ${String(err)}. Type the code instead.`),
    );
    return () => {
      stopped = true;
      scanner.destroy();
    };
  }, []);

  return (
    <div className="camera">
      {problem && <Notice kind="error">{problem}</Notice>}
      <video ref={video} className="camera-view" muted playsInline aria-label="Camera: hold a ticket’s QR code in view" />
      {running && <p className="hint">Camera on: hold a ticket’s QR code in view.</p>}
    </div>
  );
}
