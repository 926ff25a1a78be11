import { busContract } from './bus.contract';
import { LocalBus, LocalHub } from './local';
import { ownershipContract } from './ownership.contract';
import { LocalOwnership } from './ownership';

busContract('local', (nodeIds) => {
  const hub = new LocalHub();
  return nodeIds.map((nodeId) => new LocalBus(nodeId, hub));
});

ownershipContract('local', () => new LocalOwnership());
