/** Public surface of models/: pure scoring code, no I/O. */
export * from './types';
export * from './prng';
export * from './average-path-length';
export * from './isolation-forest';
export * from './isolation-forest-detector';
export * from './calibrated-forest';
export * from './zscore-detector';
export * from './mad-detector';
export * from './band-detector';
export * from './quantile';
export * from './feature-extractor';
export * from './ensemble';
export * from './deviation-score';
export * from './series-model';
export * from './typed-array-codec';
export * from './seasonal-profile';
