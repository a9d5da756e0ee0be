'use strict';

const MODE_REGEX = /^[LS]([1-9][0-9]?)T([1-9][0-9]?)(_KEY)?/;

/**
 * Parses an SVC scalability mode such as 'L3T3_KEY' into its spatial and
 * temporal layer counts; anything else gives one of each.
 */
function parseScalabilityMode(scalabilityMode) {
  const match = MODE_REGEX.exec(scalabilityMode || '');
  if (!match) return { spatialLayers: 1, temporalLayers: 1, ksvc: false };
  return {
    spatialLayers: Number(match[1]),
    temporalLayers: Number(match[2]),
    ksvc: Boolean(match[3]),
  };
}

module.exports = { parseScalabilityMode };
