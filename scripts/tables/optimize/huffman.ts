/**
 * Trained Huffman sets for the optimiser and its report: the complete set fitted to the symbols a labelled set
 * produces under given quantization tables (shared/codec: symbolFrequencies + trainHuffmanTables).
 */
import { symbolFrequencies } from '../../../shared/codec/encoder'
import { emptySymbolCounts, trainHuffmanTables } from '../../../shared/codec/huffman-tables'
import type { EncodeOptions, HuffmanTables } from '../../../shared/codec/types'
import { image, type LabelledSet } from '../../eval/dataset'

export function trainHuffmanOn(set: LabelledSet, quant: Pick<EncodeOptions, 'quality' | 'tables'>): HuffmanTables {
  const counts = emptySymbolCounts()
  const format = set.channels === 1 ? 'gray' : 'rgb'
  for (let i = 0; i < set.count; i++)
    symbolFrequencies({ width: set.width, height: set.height, format, data: image(set, i) }, quant, counts)
  return trainHuffmanTables(counts, set.channels > 1)
}
