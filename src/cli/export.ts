// `hashguard export`: write a model directory as one ONNX file (src/onnx's exporter): hashed layers expanded to
// dense, static gradient inhibition as stored in the weights, a random GI stage refused. Atomic write (temp file,
// then rename); an existing file is replaced only with --force.
import { sha256Hex } from '../hash/index.ts';
import { loadModelDir, writeFileAtomic } from '../io/index.ts';
import { EXPORT_OPSET, exportOnnx } from '../onnx/index.ts';
import { flags, parse, requireString } from './args.ts';
import { guardReport } from './output-guard.ts';
import { progressSink } from './progress.ts';
import { standardError } from '../runtime/index.ts';

export const exportUsage = `usage: bun run export -- --model models/NAME --out MODEL.onnx [--force]
  Opset ${EXPORT_OPSET}, input "x" [N, C, H, W] in [0, 1], output "logits" [N, classes]. Hashed layers are written with
  their virtual weights expanded (dense); static GI stages are already in the weights; a random GI stage is refused.`;

export async function exportCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    ...flags('model out', 'force'),
  });
  const dir = requireString(v, 'model');
  const out = requireString(v, 'out');
  guardReport(out, [''], Boolean(v.force));
  const { manifest, tensors } = await loadModelDir(dir);
  const defense = manifest.defense as { stages: { kind: string }[] } | null;
  const bytes = exportOnnx(
    manifest.layers,
    tensors,
    manifest.input.shape,
    manifest.classes.length,
    {
      defense,
    },
  );
  await writeFileAtomic(out, bytes);
  const hashed = manifest.layers.filter((l) => l.type.startsWith('hashed-')).length;
  const stages = defense?.stages.map((s) => s.kind) ?? [];
  progressSink(standardError()).log(
    `wrote ${out}: ${bytes.length} bytes, sha256 ${(await sha256Hex(bytes)).slice(0, 12)}…, opset ${EXPORT_OPSET}` +
      (hashed ? `, ${hashed} hashed layers expanded to dense` : '') +
      (stages.length ? `, GI stages ${stages.join('+')} as stored in the weights` : ''),
  );
}
